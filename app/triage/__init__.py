"""Triage: the questions asked of a new ticket, the priority they give, and whom to ask next.

`rules` (pure triage rules) and `assignment` (fair assignment).

Submodules are imported by name (`from app.triage import assignment`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['assignment', 'rules']
