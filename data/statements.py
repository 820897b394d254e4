"""Peewee queries whose SQL is built once per backend, then run again and again with new values.

Peewee builds a query's SQL from its expression tree on every execution. For
the hot statements that is most of their cost: selecting a ticket's forty
columns by key takes 1.3 ms to build and 0.04 ms to run on SQLite, and a move
runs it, then reads two pages and a position. A `Prepared` statement is still
written as a Peewee query (so each backend gets its own quoting, placeholders
and `FOR UPDATE`), built once with sentinel values to learn where each
parameter goes, and afterwards executed as plain SQL.

Only values Peewee passes through unchanged can be parameters: strings,
integers and floats compared with, or limiting, columns of the same type.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, TypeVar

from peewee import Model, Query

from data.models import database_proxy

M = TypeVar("M", bound=Model)

_KINDS: dict[type, Callable[[str, int], Any]] = {
    str: lambda name, n: f"\x00{name}\x00",
    int: lambda name, n: -7_000_001 - n,
    float: lambda name, n: -7_000_001.5 - n,
}
"""Per parameter type, a value no real parameter takes: building with it shows where the parameter goes."""


class Prepared:
    """One query, written as `build(*shape, **parameters)`, built by Peewee once per backend and shape.

    `parameters` names each parameter and its type (str, int or float);
    `shape` arguments (an order, a part) change the SQL itself and are part
    of the cache key, never parameters.
    """

    def __init__(self, build: Callable[..., Query], **parameters: type) -> None:
        self.build = build
        self.parameters = parameters
        self._built: dict[tuple, tuple[str, tuple[str, ...]]] = {}

    def sql(self, *shape: Any, **values: Any) -> tuple[str, list[Any]]:
        """The SQL for the database in use and its parameter list for these values."""
        key = (type(database_proxy.obj), shape)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._build(shape)
        sql, names = built
        return sql, [values[name] for name in names]

    def _build(self, shape: tuple) -> tuple[str, tuple[str, ...]]:
        sentinels = {name: _KINDS[kind](name, n) for n, (name, kind) in enumerate(self.parameters.items())}
        sql, params = self.build(*shape, **sentinels).sql()
        by_value = {value: name for name, value in sentinels.items()}
        try:
            return sql, tuple(by_value[param] for param in params)
        except KeyError as exc:  # a constant in the query, or a value Peewee converted: not preparable
            raise TypeError(f"{self.build.__qualname__}: parameter {exc.args[0]!r} is not one of "
                            f"{', '.join(self.parameters)}") from None

    def execute(self, *shape: Any, **values: Any):
        """Run it; the database cursor."""
        sql, params = self.sql(*shape, **values)
        return database_proxy.execute_sql(sql, params)

    def models(self, model: type[M], *shape: Any, **values: Any) -> Iterator[M]:
        """Run a `model.select()` query; its rows as model instances, converted as Peewee's own select would."""
        sql, params = self.sql(*shape, **values)
        return iter(model.raw(sql, *params))


__all__ = ["Prepared"]
