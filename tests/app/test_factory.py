"""The app factory, language prefix, security headers and the shipped defaults."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Channel, DeadlinePolicy, Organisation


def test_root_redirects_to_dutch_start(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/nl/")


def test_start_page_in_both_languages_sets_no_cookie(client: FlaskClient) -> None:
    for lang in ("nl", "en"):
        response = client.get(f"/{lang}/")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert f'<html lang="{lang}">' in response.get_data(as_text=True)


def test_unknown_language_is_404(client: FlaskClient) -> None:
    assert client.get("/de/").status_code == 404


def test_security_headers_on_pages_and_errors(client: FlaskClient) -> None:
    for path in ("/nl/", "/nl/does-not-exist"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp and "form-action 'self'" in csp
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"
        assert "Server" not in headers


def test_cross_site_post_is_refused(client: FlaskClient) -> None:
    response = client.post("/nl/", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400


def test_error_page_is_translated(client: FlaskClient) -> None:
    assert "Pagina niet gevonden" in client.get("/nl/nowhere").get_data(as_text=True)
    assert "Page not found" in client.get("/en/nowhere").get_data(as_text=True)


def test_defaults_are_shipped_once(db_session: Session) -> None:
    from app.services.defaults import BUILTIN_POLICIES, ensure_defaults

    ensure_defaults(db_session)
    slugs = set(db_session.scalars(select(DeadlinePolicy.slug)))
    assert slugs == {policy["slug"] for policy in BUILTIN_POLICIES}
    assert len(db_session.scalars(select(Channel)).all()) == 4
    assert db_session.get(Organisation, 1) is not None


def test_unexpected_error_page_and_log_carry_no_content(app, caplog) -> None:  # type: ignore[no-untyped-def]
    canary = "CANARY-ERROR-7731"

    def explode() -> str:
        raise ValueError(f"could not parse {canary}")

    app.add_url_rule("/<lang>/explode", "explode", explode)
    with caplog.at_level("DEBUG"):
        response = app.test_client().get("/nl/explode")
    assert response.status_code == 500
    assert canary not in response.get_data(as_text=True)
    assert "Er is niets opgeslagen" in response.get_data(as_text=True)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "ValueError" in logged and "explode" in logged
    assert canary not in logged
