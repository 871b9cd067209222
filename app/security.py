"""Response headers on every page and the cross-site request guard, set in the app (not the proxy).

`LastResortErrors` wraps the WSGI app itself: whatever goes wrong after Flask's own error handling (a
database rollback that fails while the request is torn down, an error page that cannot be rendered), the
client still gets a 500 with every security header rather than the server's bare error page.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request

from app.errors import where

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    # `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null` even on our own
    # form posts, which would make the Origin check below meaningless. Other sites still get no Referer.
    ("Referrer-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
NO_STORE: tuple[tuple[str, str], ...] = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def has_control_characters(text: str) -> bool:
    """CR, LF, NUL and friends: never part of a real path, and fatal in a header that repeats it."""
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_origin(origin: str, own_origins: frozenset[str]) -> bool:
    """Whether an `Origin` header names this site: the host as the request came in, the configured base URL
    or the onion address; "null" never does."""
    return _origin_of(origin) in own_origins | {_origin_of(request.host_url)}


def init_app(app: Flask, onion_address: str, base_url: str = "") -> None:
    # Behind a proxy the request may come in under another scheme or host than the browser used.
    candidates = [base_url, f"http://{onion_address}" if onion_address else ""]
    own_origins = frozenset(_origin_of(url) for url in candidates if url)
    @app.before_request
    def refuse_odd_requests() -> None:
        # A path with %0d%0a would end up in the Onion-Location header and in logs: no page has one.
        if has_control_characters(request.path):
            abort(404)
        # A NUL in a query parameter would reach a database comparison (PostgreSQL refuses it): no link has one.
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.args.lists()):
            abort(400)
        # Defence in depth beside the CSRF token: browsers say where a form post comes from.
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None:
            if site not in ("same-origin", "none"):
                abort(400)
            return
        # Older browsers send no Sec-Fetch-Site but do send Origin on a cross-site form post.
        origin = request.headers.get("Origin")
        if origin is not None and not _same_origin(origin, own_origins):
            abort(400)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in SECURITY_HEADERS:
            headers[name] = value
        if request.path.startswith("/static/"):
            headers["Cache-Control"] = "public, max-age=3600"
        else:
            # No page of a case, a mailbox or a receipt may be kept by a browser or a proxy.
            for name, value in NO_STORE:
                headers[name] = value
        if onion_address and not has_control_characters(request.full_path):
            headers["Onion-Location"] = f"http://{onion_address}{request.full_path.rstrip('?')}"
        headers.pop("Server", None)
        return response

    app.wsgi_app = LastResortErrors(app.wsgi_app, app.logger)  # type: ignore[method-assign]


class LastResortErrors:
    """WSGI middleware: an exception that escapes Flask becomes a plain 500 with every security header.

    It logs the exception's type and frames, never its message (which may quote a query or report text).
    If the response had already started, the exception is raised again so the server cuts the connection.
    """

    BODY = (b"<!doctype html><title>500</title><p>Er ging iets mis. Probeer het later opnieuw. / "
            b"Something went wrong. Please try again later.</p>")

    def __init__(self, wsgi_app: Any, logger: logging.Logger) -> None:
        self.wsgi_app = wsgi_app
        self.logger = logger

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started: list[bool] = []

        def recording_start_response(*args: Any) -> Any:
            started.append(True)
            return start_response(*args)

        try:
            return self.wsgi_app(environ, recording_start_response)  # type: ignore[no-any-return]
        except Exception as error:
            self.logger.error("unhandled %s at %s", type(error).__name__, where(error))
            headers = [*SECURITY_HEADERS, *NO_STORE, ("Content-Type", "text/html; charset=utf-8"),
                       ("Content-Length", str(len(self.BODY)))]
            # Replacing headers that were set but not yet sent needs exc_info (PEP 3333); the server raises
            # it again if they were sent already, and then cuts the connection.
            start_response("500 INTERNAL SERVER ERROR", headers, *([sys.exc_info()] if started else []))
            return [self.BODY]
