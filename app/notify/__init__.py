"""Telling people: outbox drafts, their words, delivery by mail and webhook, and mail coming back.

`drafts` (what a change tells whom), `templates`, `settings` (the `notify:` section), `delivery`
(SMTP and the chat webhook), `webhook` (where a POST may go), `inbound` (a reply as plain values),
`quarantine` (refused mail kept for a person), `addresses` (the one check of an address).

Submodules are imported by name (`from app.notify import addresses`), not through this package:
an `__init__` that imported them all would load every dependency on paths that need one
(start-up imports only what the first frame needs) and would tie the submodules into cycles.
"""

__all__ = ['addresses', 'delivery', 'drafts', 'inbound', 'quarantine', 'settings', 'templates', 'webhook']
