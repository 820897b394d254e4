"""The two-weekly retro's numbers (seed 004): report periods, flow metrics and the report itself.

`cycles` (periods and the `report:` section), `metrics` (pure flow metrics), `report` (config and
database in, a `metrics.Report` out).

Submodules are imported by name (`from app.reports import cycles`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['cycles', 'metrics', 'report']
