"""The board's own rules and data shapes: the workflow, the order of work, stuck cards, and moving
tickets in and out.

`workflow` (which moves are allowed, what the requester sees), `ordering` (Mattermost's priority
as one sortable number), `stale`, `source` (the adapter from the board's queries to the column
widgets), `transfer` (CSV and JSON import/export), `serialize` (tickets as plain dicts), `demo`.

Submodules are imported by name (`from app.board import demo`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['demo', 'ordering', 'serialize', 'source', 'stale', 'transfer', 'workflow']
