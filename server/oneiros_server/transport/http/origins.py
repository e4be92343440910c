"""Browsers cannot be turned against the server: a middleware that refuses cross-site requests.

A web page may make its visitor's browser POST a form (``application/x-www-form-urlencoded``,
``multipart/form-data`` or ``text/plain``) to any address, ``http://localhost:8080`` included,
without a CORS preflight; CORS only stops the page from reading the answer, not the work from
running. So every request other than GET/HEAD/OPTIONS is refused (403) when the browser says it
comes from elsewhere:

- an ``Origin`` header that is neither the server's own origin nor in ``--http-cors-origins``;
- without ``Origin``, ``Sec-Fetch-Site: cross-site`` or ``same-site``.

Clients that are not browsers send neither header and are not affected; pages served by this
port (the playground at ``GET /``) are same-origin. ``--http-cors-origins '*'`` turns the check off.

DNS rebinding (a page whose own name resolves to 127.0.0.1, so that its requests are
"same-origin") is refused by the Host check: a server bound to a loopback address answers
only requests whose ``Host`` names a loopback address.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from oneiros_server.errors import echo
from oneiros_server.transport.http.calls import error_response, http_request_id
from oneiros_server.transport.http.errors import HttpError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE = frozenset({"cross-site", "same-site"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (IPv6 with or without brackets)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The host of a ``Host`` header, without its port."""
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class CrossSiteGuard:
    """ASGI middleware: the cross-site and Host rules of the module docstring."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str], loopback_only: bool):
        self.app = app
        self.allowed = frozenset(o.rstrip("/") for o in allowed_origins)
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            refusal = self.refusal(scope, headers)
            if refusal is not None:
                rid = http_request_id(Request(scope))
                await error_response(HttpError(403, "PERMISSION_DENIED", refusal), rid)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope, headers: Headers) -> str | None:
        """Why the request is refused, or None."""
        host = headers.get("host", "")
        if self.loopback_only and not is_loopback(host_name(host)):
            return f"Host {echo(host)} is refused: this server listens on a loopback address only"
        if scope["method"] in SAFE_METHODS or "*" in self.allowed:
            return None
        origin = headers.get("origin")
        site = headers.get("sec-fetch-site")
        if origin is not None:
            if origin.rstrip("/") in self.allowed:
                return None
            own = f"{scope.get('scheme', 'http')}://{host}"
            if origin == own and site not in CROSS_SITE:
                return None
            return f"a request from the web page origin {echo(origin)} is refused; see --http-cors-origins"
        if site in CROSS_SITE:
            return f"a {site} browser request is refused; see --http-cors-origins"
        return None
