"""Response headers on every page and the cross-site request guard, set in the app (not the proxy)."""

from __future__ import annotations

from flask import Flask, Response, abort, request

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def init_app(app: Flask, onion_address: str) -> None:
    @app.before_request
    def refuse_cross_site_posts() -> None:
        # Defence in depth beside the CSRF token: browsers say where a form post comes from.
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            abort(400)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        if request.path.startswith("/static/"):
            headers["Cache-Control"] = "public, max-age=3600"
        else:
            # No page of a case, a mailbox or a receipt may be kept by a browser or a proxy.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        if onion_address:
            headers["Onion-Location"] = f"http://{onion_address}{request.full_path.rstrip('?')}"
        headers.pop("Server", None)
        return response
