"""Peewee queries whose SQL is built once per backend, then run again and again with new values.

Peewee builds a query's SQL from its expression tree on every execution. For
the hot statements that is most of their cost: selecting a ticket's forty
columns by key takes 1.3 ms to build and 0.04 ms to run on SQLite, and a move
runs it, then updates the ticket, reads two pages and a position. A
`Prepared` statement is still written as a Peewee query (so each backend gets
its own quoting, placeholders and `FOR UPDATE`), built once with a slot for
each parameter, and afterwards executed as plain SQL with the values in the
slots' places.

A slot is a `Value(…, converter=False)`: Peewee copies it into the
statement's parameters as it is, so the values must be passed as Peewee
would pass them to the driver (`Field.db_value`; text, numbers, booleans,
datetimes and None pass unchanged).

What it saves: a move's ticket fetch took 1.6 ms, 1.3 of it building SQL, and
takes 0.3 (commit "Prepared statements: hot Peewee queries build their SQL once
per backend"); the write path's guarded UPDATE went from 0.57 to 0.10 ms.

What would break it: a value written into the query rather than passed as a
parameter (the SQL is reused, so a later run would silently use the first
value: `_build` refuses any constant it finds), or an argument that changes the
SQL passed as a parameter instead of as `shape`. A value that needs converting
(an enum, a JSON field) must be passed already converted (`Field.db_value`).

Adding a query does not need any of this: write it as a plain Peewee query in
`data/` (`data/board_queries.py` for the board's). Wrap it in `Prepared` only
when it runs on every move or page and a profile shows its SQL building.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, NamedTuple, TypeVar

from peewee import BooleanField, DateField, DateTimeField, Model, Query, TimeField, Value

from data.models import database_proxy

M = TypeVar("M", bound=Model)


class _Slot:
    """Where one named parameter goes; found again, by identity, in the built statement's parameters."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


_CONVERTED = (BooleanField, DateField, DateTimeField, TimeField)
"""Fields whose stored value Peewee converts on the way out (SQLite stores them as text or 0/1)."""


class _Built(NamedTuple):
    sql: str
    names: tuple[str, ...]
    """The parameters, in the order the SQL's placeholders take them."""
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]
    """(column index, Peewee's converter) of each selected date or flag (`Prepared.tuples`)."""


class Prepared:
    """One query, written as `build(*shape, **parameters)`, built by Peewee once per backend and shape.

    The keyword arguments are the parameters; `shape` arguments (an order, a
    part, the columns an UPDATE sets) change the SQL itself and are part of
    the cache key, never parameters.
    """

    def __init__(self, build: Callable[..., Query]) -> None:
        self.build = build
        self._built: dict[tuple, _Built] = {}

    def sql(self, *shape: Any, **values: Any) -> tuple[str, list[Any]]:
        """The SQL for the database in use and its parameter list for these values."""
        built = self._get(shape, values)
        return built.sql, [values[name] for name in built.names]

    def _get(self, shape: tuple, values: dict[str, Any]) -> _Built:
        key = (type(database_proxy.obj), shape, tuple(values))
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._build(shape, tuple(values))
        return built

    def _build(self, shape: tuple, names: tuple[str, ...]) -> _Built:
        query = self.build(*shape, **{name: Value(_Slot(name), converter=False) for name in names})
        sql, params = query.sql()
        constants = [param for param in params if not isinstance(param, _Slot)]
        if constants:  # a value written into the query, which later runs would silently reuse
            raise TypeError(f"{self.build.__qualname__}: {constants[0]!r} is not a parameter "
                            f"(parameters: {', '.join(names)})")
        converted = tuple((index, field.python_value) for index, field in enumerate(getattr(query, "_returning", None) or ())
                          if isinstance(field, _CONVERTED))
        return _Built(sql, tuple(param.name for param in params), converted)

    def execute(self, *shape: Any, **values: Any):
        """Run it; the database cursor."""
        sql, params = self.sql(*shape, **values)
        return database_proxy.execute_sql(sql, params)

    def tuples(self, *shape: Any, **values: Any) -> list[tuple]:
        """Run a select; its rows as tuples, dates and flags converted as Peewee's `.tuples()` would.

        Only those columns: SQLite hands them back as text and 0/1, every other
        value comes back as Peewee would return it (numbers, text, None), and
        converting every column is most of the cost of reading a few rows.
        """
        built = self._get(shape, values)
        cursor = database_proxy.execute_sql(built.sql, [values[name] for name in built.names])
        if not built.converted:
            return cursor.fetchall()
        rows = []
        for row in cursor:
            row = list(row)
            for index, convert in built.converted:
                row[index] = convert(row[index])
            rows.append(tuple(row))
        return rows

    def models(self, model: type[M], *shape: Any, **values: Any) -> Iterator[M]:
        """Run a `model.select()` query; its rows as model instances, converted as Peewee's own select would."""
        sql, params = self.sql(*shape, **values)
        return iter(model.raw(sql, *params))


__all__ = ["Prepared"]
