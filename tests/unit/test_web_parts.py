"""The login's and the requester page's parts as plain functions: config, passwords, proxy trust, sessions,
CSRF, rate limits, links."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from app.config.settings import load_config
from app.config.yamlnodes import ConfigError
from app.web import auth, csrf, links
from app.web.ratelimit import RateLimit
from app.web.sessions import SessionStore

HEAD = """
board: {key: SET}
team:
  - {handle: alice, name: Alice, email: alice@example.org}
  - {handle: bob, name: Bob, email: bob@example.org}
workflow:
  columns:
    - {key: todo, title: To Do, support_status: Open}
    - {key: done, title: Done, support_status: Released}
  transitions:
    todo: [done]
"""


def config_with(tmp_path, serve: str):
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(HEAD) + textwrap.dedent(serve))
    return load_config(path)


def test_serve_section_parses_both_modes(tmp_path):
    password = config_with(tmp_path, """
        serve:
          public_url: https://board.example.org/triage/
          link_lifetime: 2w
          auth: {mode: password, password_file: secrets/board.passwd, session_lifetime: 8h}
        """).serve
    assert password.public_url == "https://board.example.org/triage"
    assert password.link_seconds == 14 * 86400
    assert password.auth.password_file == (tmp_path / "secrets/board.passwd").resolve()
    assert password.auth.session_seconds == 8 * 3600
    proxy = config_with(tmp_path, """
        serve:
          auth: {mode: proxy, header: X-Forwarded-User, trusted_proxies: [127.0.0.1, 10.0.0.0/8]}
        """).serve.auth
    assert (proxy.mode, proxy.header) == ("proxy", "X-Forwarded-User")
    assert proxy.trusts("10.1.2.3") and proxy.trusts("127.0.0.1") and not proxy.trusts("192.168.1.1")
    assert not proxy.trusts(None) and not proxy.trusts("not an address")


@pytest.mark.parametrize("serve, key, words", [
    ("serve:\n  auth: {mode: magic}\n", "serve.auth.mode", "expected one of proxy, password"),
    ("serve:\n  auth: {mode: password}\n", "serve.auth", "needs a password_file"),
    ("serve:\n  auth: {mode: proxy, trusted_proxies: [proxy.local]}\n", "serve.auth.trusted_proxies",
     "not an IP address"),
    ("serve:\n  auth: {mode: proxy, header: 'Remote User'}\n", "serve.auth.header", "not a header name"),
    ("serve:\n  public_url: board.example.org\n", "serve.public_url", "expected an address"),
    ("serve:\n  link_lifetime: 1 working day\n", "serve.link_lifetime", "expected a duration"),
    ("serve:\n  colour: blue\n", "serve.colour", "unknown key"),
])
def test_serve_section_errors_name_the_key(tmp_path, serve, key, words):
    with pytest.raises(ConfigError) as caught:
        config_with(tmp_path, serve)
    assert key in str(caught.value) and words in str(caught.value)
    assert "config.yaml:" in str(caught.value)


def test_password_file_round_trip_and_refusals(tmp_path):
    path = tmp_path / "board.passwd"
    handles = ("alice", "bob")
    auth.set_password(path, "alice", "correct horse battery")
    auth.set_password(path, "bob", "another long secret")
    auth.set_password(path, "alice", "a newer password!")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert set(auth.read_hashes(path)) == {"alice", "bob"}
    assert "a newer password" not in path.read_text()
    assert auth.check_password(path, handles, "alice", "a newer password!")
    assert not auth.check_password(path, handles, "alice", "correct horse battery")
    assert auth.check_password(path, handles, "bob", "another long secret")
    assert not auth.check_password(path, ("alice",), "bob", "another long secret")  # no longer on the team
    assert not auth.check_password(path, handles, "carol", "anything at all")
    assert not auth.check_password(tmp_path / "missing", handles, "alice", "a newer password!")
    assert auth.password_problem("short") and auth.password_problem("x" * 2000) and auth.password_problem("a\nbcdefghijk")
    assert auth.password_problem("long enough now") is None


def test_a_proxy_header_counts_only_from_a_trusted_proxy_and_only_for_a_team_handle(tmp_path):
    settings = config_with(tmp_path, "serve:\n  auth: {mode: proxy, trusted_proxies: [127.0.0.1]}\n").serve.auth
    handles = ("alice", "bob")
    assert auth.proxy_user(settings, "127.0.0.1", {"Remote-User": "alice"}, handles) == "alice"
    assert auth.proxy_user(settings, "203.0.113.9", {"Remote-User": "alice"}, handles) is None
    assert auth.proxy_user(settings, "127.0.0.1", {"Remote-User": "mallory"}, handles) is None
    assert auth.proxy_user(settings, "127.0.0.1", {}, handles) is None
    assert auth.client_address(settings, "127.0.0.1", {"X-Forwarded-For": "198.51.100.7, 127.0.0.1"}) == "198.51.100.7"
    assert auth.client_address(settings, "203.0.113.9", {"X-Forwarded-For": "1.2.3.4"}) == "203.0.113.9"


def test_sessions_expire_end_and_refuse_forged_cookies():
    now = {"t": 1000.0}
    store = SessionStore(3600, clock=lambda: now["t"])
    session, cookie = store.start("alice")
    assert store.find(cookie).handle == "alice"
    assert store.find(cookie + "x") is None and store.find(session.sid) is None and store.find(None) is None
    assert SessionStore(3600).find(cookie) is None  # another server's (or a restarted server's) key
    store.end(session.sid)
    assert store.find(cookie) is None
    _, later = store.start("bob")
    now["t"] += 3601
    assert store.find(later) is None


def test_csrf_tokens_are_bound_to_the_browser_and_the_form():
    guard = csrf.Csrf()
    token, cookie = guard.for_form({}, "r:SET-1")
    assert cookie and guard.valid(cookie, "r:SET-1", token)
    assert guard.for_form({csrf.COOKIE: cookie}, "login")[1] is None  # the browser keeps its cookie
    assert not guard.valid(cookie, "r:SET-2", token)
    assert not guard.valid(csrf.Csrf.new_cookie(), "r:SET-1", token)
    assert not guard.valid(cookie, "r:SET-1", token[:-1] + "x") and not guard.valid(cookie, "r:SET-1", "")
    assert not csrf.Csrf().valid(cookie, "r:SET-1", token)


def test_rate_limit_slides():
    now = {"t": 0.0}
    limit = RateLimit(3, 60, clock=lambda: now["t"])
    for _ in range(3):
        assert not limit.blocked("addr:1", "handle:alice")
        limit.hit("addr:1", "handle:alice")
    assert limit.blocked("addr:1") == 60 and limit.blocked("addr:2", "handle:alice") == 60
    assert not limit.blocked("addr:2", "handle:bob")
    now["t"] = 30
    assert limit.blocked("handle:alice") == 30
    now["t"] = 61
    assert not limit.blocked("addr:1", "handle:alice")
    limit.hit("handle:bob")
    limit.clear("handle:bob")
    assert not limit.blocked("handle:bob")


def test_links_open_one_ticket_until_they_expire(monkeypatch):
    token = links.mint("set-7", "secret-seven")
    assert links.claimed_key(token) == "SET-7"
    assert links.verify(token, "SET-7", "secret-seven", 60)
    assert not links.verify(token, "SET-8", "secret-seven", 60)   # the key is in the salt
    assert not links.verify(token, "SET-7", "secret-eight", 60)
    assert links.claimed_key("garbage") is None and not links.verify("garbage", "SET-7", "secret-seven", 60)
    assert links.url("https://b.example.org/", "SET-7", "s").startswith("https://b.example.org/r/")
    assert links.url("", "SET-7", "s") == ""
    import time
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 120)
    with pytest.raises(links.Expired):
        links.verify(token, "SET-7", "secret-seven", 60)
