"""A copy of database, storage and server secret, taken while a handler is logged in, opens no case.

The cookie's session key is the missing piece: with it (and only with it) the same copy opens the case.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import crypto
from app import db
from app.config import derive_subkey
from app.models import Base
from app.services.session_cookie import parse_session_cookie
from app.services.staff_auth import COOKIE_NAME

PURPOSES = ("password", "recovery", "session")


def _dump(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (what a database dump holds, on SQLite and PostgreSQL alike)."""
    with db.engine_of(app).connect() as connection:
        return {t.name: [dict(r._mapping) for r in connection.execute(select(t))] for t in Base.metadata.sorted_tables}


def _candidate_keys(master: bytes) -> list[bytes]:
    purposes = ("flask-secret-key", "receipt-lookup", "csrf", "session", "handler-session", "staff-session",
                "mk_staff", "secret")
    return [master, *(derive_subkey(master, p) for p in purposes)]


def _blobs(dump: dict[str, list[dict[str, Any]]]) -> list[bytes]:
    return [v for rows in dump.values() for row in rows for v in row.values() if isinstance(v, bytes)]


def test_copy_without_cookie_opens_nothing(app: Flask, client: FlaskClient, make_member, login, make_case,
                                           tmp_path: Path) -> None:
    anna = make_member("anna")
    receipt = make_case(files=(("bewijs.pdf", b"evidence file bytes"),))
    login(client, anna)
    assert client.get("/nl/handler/").status_code == 200
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None

    settings = app.config["MELDKLUIS"]
    dump = _dump(app)
    storage_copy = tmp_path / "storage-copy"
    shutil.copytree(settings.storage_path, storage_copy)
    master = (settings.instance_path / "secret_key").read_text()
    if settings.database_url.startswith("sqlite:///"):
        db_copy = tmp_path / "copy.db"
        shutil.copy(settings.database_url.removeprefix("sqlite:///"), db_copy)
        assert b"declareert" not in db_copy.read_bytes()
    assert dump["handler_session"], "the handler is logged in while the copy is taken"
    for stored in storage_copy.rglob("*"):
        if stored.is_file():
            assert b"evidence file bytes" not in stored.read_bytes()

    wraps = [row["wrapped_private_key"] for row in dump["handler_session"]]
    wraps += [row[c] for row in dump["user_account"] for c in ("private_key_by_password", "private_key_by_recovery")]
    keys = _candidate_keys(bytes.fromhex(master))
    private_keys = []
    for wrapped in wraps:
        for key in keys:
            for purpose in PURPOSES:
                with contextlib.suppress(crypto.DecryptionError):
                    private_keys.append(crypto.unwrap_private_key(wrapped, key, purpose))
    assert private_keys == []
    sealed_case_keys = [row["sealed_case_key"] for row in dump["participant"]]
    for sealed in sealed_case_keys:
        for key in keys:
            try:
                crypto.open_case_key(sealed, key, receipt.case_id)
                raise AssertionError("a case key opened without any private key")
            except crypto.DecryptionError:
                pass
    assert all(b"declareert" not in blob for blob in _blobs(dump))

    # The one thing missing from the copy: the cookie's session key. With it, the copy opens the case.
    parsed = parse_session_cookie(cookie.value)
    assert parsed is not None
    session_id, session_key = parsed
    wrapped = next(r["wrapped_private_key"] for r in dump["handler_session"] if r["id"] == session_id)
    private_key = crypto.unwrap_private_key(wrapped, session_key, "session")
    case_key = None
    for sealed in sealed_case_keys:
        try:
            case_key = crypto.open_case_key(sealed, private_key, receipt.case_id)
        except crypto.DecryptionError:
            continue
    assert case_key is not None
    case_row = next(r for r in dump["case"] if r["id"] == receipt.case_id)
    report = crypto.open_text(case_key, case_row["report_sealed"], case_id=receipt.case_id, kind="report",
                              row_id=receipt.case_id, meta=crypto.Meta(author_kind="reporter"))
    assert "declareert" in report
