"""The command line: the `triageboard` entry point and its click commands, one module per group.

`launch` (the process's start), `collector` (the garbage collector off during start-up), `runtime` (the config and database a
command runs against), `main` (the `cli` group and the ticket commands), `triage`, `oncall`,
`notify`, `report`, `serve`, and `rounds` (the loop of the long-running commands).

Submodules are imported by name (`from app.cli import launch`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['collector', 'launch', 'main', 'notify', 'oncall', 'report', 'rounds', 'runtime', 'serve', 'triage']
