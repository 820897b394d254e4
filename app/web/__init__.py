"""The browser side of `triageboard serve`: the team's login and the requester's own page.

`auth` (who a request is: the password file, the trusted proxy's header), `sessions` (signed
cookies with a lifetime, ended on logout), `csrf` (every form's token), `ratelimit` (failed
logins, fresh-link mails), `links` (a ticket's signed, expiring requester link), `pages`
(Jinja2 with autoescape over `templates/`), `login` (the team's login and logout routes and
the gate in front of the board) and `requester` (the requester's page). The board itself is
textual-serve's, started from `app.cli.serve`.
"""

__all__ = ["auth", "csrf", "links", "login", "pages", "ratelimit", "requester", "sessions"]
