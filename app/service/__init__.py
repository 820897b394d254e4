"""The one write path: every change to a ticket goes through `core.Service`, in one transaction
with its history row and its outbox rows.

Submodules are imported by name (`from app.service import core`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['core']
