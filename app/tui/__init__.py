"""The terminal app: the Textual App, its screens and dialogs, the command palette, and its styles.

`app` (`TriageApp`), `screens` (board, detail, help, pickers, reports, triage dialogs), `commands`
(the palette), `ui_state` (a user's layout kept between sessions), `triageboard.tcss`.

Submodules are imported by name (`from app.tui import app`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['app', 'commands', 'ui_state', 'screens']
