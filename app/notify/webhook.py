"""Posting to the chat webhook: never redirected, never to a link-local or metadata address.

A webhook URL comes from config, but where it leads is decided by DNS and by
the server that answers. Two things could lose a page while it is marked
sent, or hand it to the wrong machine:

- urllib follows a 302 on a POST by sending a GET without the body; the 200
  on that GET looked like a delivered page. Here a redirect is never
  followed: any 3xx is a failure, retried and shown like any other.
- A name that resolves to a link-local address (169.254.0.0/16, where cloud
  metadata services answer, or fe80::/10) or to an unspecified one (0.0.0.0,
  ::) is refused unless `notify.webhook.allow_addresses` lists it.

The address check runs on every post against what the name resolves to then
(not only when config is read); a name that re-resolves between the check and
the connection is not caught, which an outbound proxy would have to enforce.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from typing import Iterable
from urllib.parse import urlsplit

METADATA = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
            ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("0.0.0.0/8"))
"""Link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254) and 'this network' addresses."""


class WebhookRefused(Exception):
    """The post was not made, or not accepted, and repeating it unchanged cannot help."""


def webhook_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def forbidden_address(host: str, allow: Iterable[str] = ()) -> str:
    """Why `host` (a name or an address) may not be posted to, or '' when it may.

    A name that does not resolve is left for the post to report (a DNS outage
    is transient); only the addresses it resolves to are judged.
    """
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return ""
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    allowed = set(allow)
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if str(address) in allowed:
            continue
        if address.is_unspecified or address.is_link_local or any(address in net for net in METADATA
                                                                   if net.version == address.version):
            return f"leads to {address}, a link-local, metadata or unspecified address"
    return ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, PLR0913 (urllib's hook)
        return None  # urllib then raises HTTPError with the 3xx


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_webhook(url: str, text: str, timeout: float = 10.0, allow: Iterable[str] = ()) -> None:
    """POST `{"text": ...}` (Slack/Mattermost incoming webhook); anything but a 2xx answer is an error.

    WebhookRefused for a refusal to retry no further (a 4xx other than 408/429,
    a forbidden address); OSError for what may pass (a 3xx, a 5xx, a timeout).
    """
    refused = forbidden_address(webhook_host(url), allow)
    if refused:
        raise WebhookRefused(f"webhook not posted: {webhook_host(url)} {refused} "
                             "(notify.webhook.allow_addresses allows it)")
    request = urllib.request.Request(url, data=json.dumps({"text": text}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                raise OSError(f"webhook answered HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            where = exc.headers.get("Location", "") if exc.headers else ""
            raise OSError(f"webhook answered HTTP {exc.code} (a redirect{' to ' + where if where else ''}; "
                          "redirects are not followed: fix notify.webhook.url)"[:300]) from None
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise WebhookRefused(f"webhook refused the post: HTTP {exc.code}") from None
        raise OSError(f"webhook answered HTTP {exc.code}") from None
