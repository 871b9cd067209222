"""Faults at the edges of a request: every error response keeps the security headers, logs keep no messages."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import create_app, db
from app.config import Settings
from app.errors import TracebackWithoutMessage
from app.services.upload import UploadLimits, parse_form

CANARY = "kanarie-7c1d"


def assert_security_headers(headers: object) -> None:
    get = headers.get  # type: ignore[attr-defined]
    assert "default-src 'none'" in get("Content-Security-Policy", "")
    assert get("Cache-Control") == "no-store"
    assert get("X-Frame-Options") == "DENY"
    assert get("X-Content-Type-Options") == "nosniff"
    assert get("Referrer-Policy") == "same-origin"


def test_failing_rollback_at_teardown_still_answers_with_headers(app: Flask, client: FlaskClient,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    # A terminated database connection makes the rollback in db._close_session raise.
    def dying_rollback(self: Session) -> None:
        raise RuntimeError(f"server closed the connection unexpectedly {CANARY}")

    monkeypatch.setattr(Session, "rollback", dying_rollback)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/nl/melden")  # reads channels: opens a session
    assert response.status_code == 200
    assert_security_headers(response.headers)
    assert CANARY not in caplog.text


def test_exception_escaping_flask_gets_a_500_with_headers(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    application = create_app(settings)

    @application.get("/boom")
    def boom() -> str:
        raise RuntimeError(CANARY)

    @application.errorhandler(Exception)
    def broken_error_page(error: Exception) -> str:
        raise ValueError(f"the error page failed too {CANARY}")

    with caplog.at_level(logging.DEBUG):
        response = application.test_client().get("/boom")
    assert response.status_code == 500
    assert_security_headers(response.headers)
    assert CANARY not in caplog.text and CANARY not in response.get_data(as_text=True)
    db.engine_of(application).dispose()


def test_onion_location_with_crlf_in_path_is_404_and_not_logged(settings: Settings,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    application = create_app(replace(settings, onion_address="abcdefghijklmnop.onion"))
    client = application.test_client()
    assert client.get("/nl/").headers["Onion-Location"] == "http://abcdefghijklmnop.onion/nl/"
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/nl/%0d%0aSet-Cookie:%20{CANARY}=1")
    assert response.status_code == 404
    assert "Onion-Location" not in response.headers
    assert_security_headers(response.headers)
    assert CANARY not in caplog.text
    db.engine_of(application).dispose()


def test_foreign_origin_without_fetch_metadata_is_refused(client: FlaskClient) -> None:
    page = client.get("/nl/brievenbus/inloggen").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    form = {"csrf_token": token, "receipt_code": "AAAA", "passphrase": "a b c"}
    # A valid token (anyone can fetch one before login) does not make a foreign page's post acceptable.
    for origin in ("https://evil.example", "null", "http://localhost.evil.example"):
        assert client.post("/nl/brievenbus/inloggen", headers={"Origin": origin}, data=form).status_code == 400
    # Our own origin, or none (a non-browser client), reaches the login itself.
    assert client.post("/nl/brievenbus/inloggen", headers={"Origin": "http://localhost"}, data=form).status_code == 401
    assert client.post("/nl/brievenbus/inloggen", data=form).status_code == 401


def test_configured_public_origin_counts_as_own(settings: Settings) -> None:
    # Behind a TLS proxy that does not pass the scheme, the browser's Origin is the public base URL.
    application = create_app(replace(settings, base_url="https://meldpunt.example.org"))
    client = application.test_client()
    page = client.get("/nl/brievenbus/inloggen").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    form = {"csrf_token": token, "receipt_code": "AAAA", "passphrase": "a b c"}
    assert client.post("/nl/brievenbus/inloggen", headers={"Origin": "https://meldpunt.example.org"},
                       data=form).status_code == 401
    assert client.post("/nl/brievenbus/inloggen", headers={"Origin": "https://meldpunt.example.org.evil.example"},
                       data=form).status_code == 400
    db.engine_of(application).dispose()


def test_huge_multipart_part_header_is_refused() -> None:
    # Header and body end arrive in one read: the limit must hold there too, not only across reads.
    import io

    from werkzeug.exceptions import BadRequest

    boundary = "b0undary"
    header = b'Content-Disposition: form-data; name="what"\r\nX-Filler: ' + b"a" * (512 * 1024)
    body = f"--{boundary}\r\n".encode() + header + b"\r\n\r\nvalue\r\n" + f"--{boundary}--\r\n".encode()
    with pytest.raises(BadRequest):
        parse_form(io.BytesIO(body), f"multipart/form-data; boundary={boundary}",
                   limits=UploadLimits(1, 1024, 1024), begin_file=lambda: None,  # type: ignore[arg-type,return-value]
                   file_fields=frozenset())


def test_log_filter_keeps_type_and_frames_only() -> None:
    try:
        raise KeyError(CANARY)
    except KeyError:
        record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, "Error handling request %s",
                                   (f"/nl/{CANARY}",), sys.exc_info())
    assert TracebackWithoutMessage().filter(record)
    line = logging.Formatter().format(record)
    assert "KeyError" in line and "test_error_paths.py" in line
    assert CANARY not in line


def test_sqlite_file_and_instance_are_private(app: Flask, settings: Settings) -> None:
    engine = db.engine_of(app)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert settings.instance_path.stat().st_mode & 0o777 == 0o700
    assert (settings.instance_path / "secret_key").stat().st_mode & 0o777 == 0o600
    if engine.dialect.name == "sqlite":
        assert Path(str(engine.url.database)).stat().st_mode & 0o777 == 0o600


def test_library_tracebacks_reach_the_log_without_messages(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    # create_app (the `app` fixture) put the filter on every root handler, pytest's capturing one included.
    pool_log = logging.getLogger("sqlalchemy.pool.impl.QueuePool")
    with caplog.at_level(logging.ERROR):
        try:
            raise OperationalErrorLike(f"terminating connection; query was SELECT '{CANARY}'")
        except OperationalErrorLike:
            pool_log.error("Exception during reset or similar", exc_info=True)
    assert "OperationalErrorLike" in caplog.text and "Exception during reset or similar" in caplog.text
    assert CANARY not in caplog.text


class OperationalErrorLike(Exception):
    pass
