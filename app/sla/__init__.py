"""Response targets on the business calendar (seed 002): when the team is at work, what is due, and
how it reads on a card.

`calendar` (working time), `targets` (first response and regular updates: pure rules), `due` (the
next due instants a ticket stores, pure), `settings`
(the `sla:` section), `source` (many tickets' statuses from batched queries), `labels` and
`countdown` (the words and styles the board and `ticket show` use).

Submodules are imported by name (`from app.sla import calendar`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['calendar', 'countdown', 'due', 'labels', 'settings', 'source', 'targets']
