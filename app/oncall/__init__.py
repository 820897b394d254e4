"""On call: who holds each rotation at any instant, overrides, escalation, the roster and its calendar.

`rotation` (pure shift arithmetic), `settings` (the on-call part of `config.yaml`), `escalation`,
`roster` (who is on now and next, as rows), `ics` (the roster as iCalendar).

Submodules are imported by name (`from app.oncall import escalation`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['escalation', 'ics', 'roster', 'rotation', 'settings']
