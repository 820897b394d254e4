"""Configuration: `config.yaml` read once into frozen structs, with the file and line of every value.

`settings` is the typed whole and its loading; `yaml_loader` and `yamlnodes` keep each value's line
for error messages (`lines`: those values and `ConfigError`); `parse_cache` skips re-parsing an unchanged file; `durations` is the duration
grammar every section shares; `identity` decides who is writing (a `team:` handle).

Submodules are imported by name (`from app.config import durations`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['durations', 'identity', 'lines', 'parse_cache', 'serve', 'settings', 'yaml_loader', 'yamlnodes']
