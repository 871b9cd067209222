"""Bytes, not code paths: no plaintext and nothing identifying reaches the database, the disk or the logs."""

from __future__ import annotations

import io
import logging
import re
import secrets
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import Attachment, Case, Message, Participant

from .conftest import (
    credentials,
    csrf_token,
    database_bytes,
    log_in,
    multipart_body,
    report_fields,
    report_form,
    tree_bytes,
)


@pytest.fixture
def temp_files_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every temporary file opened (an unnamed one vanishes from the disk, so a scan alone would miss it)."""
    import werkzeug.formparser

    made: list[str] = []
    for owner, name in [(tempfile, "TemporaryFile"), (tempfile, "SpooledTemporaryFile"),
                        (tempfile, "NamedTemporaryFile"), (tempfile, "mkstemp"),
                        (werkzeug.formparser, "SpooledTemporaryFile"), (werkzeug.formparser, "TemporaryFile")]:
        real = getattr(owner, name, None)
        if real is None:
            continue

        def spy(*args: object, _real: object = real, _name: str = name, **kwargs: object) -> object:
            made.append(_name)
            return _real(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(owner, name, spy)
    return made


def test_canary_never_reaches_database_disk_temp_files_or_logs(app: Flask, client: FlaskClient, private_tmp: Path,
                                                               temp_files_made: list[str],
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"CANARY{secrets.token_hex(8)}"
    fields = {key: f"{key} {canary} tekst" for key in report_fields()}
    fields["ongoing"] = "yes"
    big_file = (canary.encode() + b" ") * 40_000  # ~1 MB, well beyond any in-memory threshold
    data = report_form(client, "/nl/melden/misstand", **fields, identity=f"Naam {canary}")
    fields_sent = [(k, v.encode()) for k, v in data.items() if k != "recipients"]
    fields_sent += [("recipients", user_id.encode()) for user_id in data["recipients"]]
    # A body made up front: the test client would otherwise spool it to a temporary file itself.
    body, content_type = multipart_body(fields_sent,
                                        [(f"{canary}.txt".encode(), big_file), (b"b.txt", b"small " + canary.encode())])
    response = client.post("/nl/melden/misstand", data=body, content_type=content_type)
    assert response.status_code == 200
    code, words = credentials(response.get_data(as_text=True))
    assert log_in(client, code, words).status_code == 303
    token = csrf_token(client, "/nl/brievenbus")
    body, content_type = multipart_body([("csrf_token", token.encode()), ("body", f"antwoord {canary}".encode())],
                                        [(f"reply-{canary}.bin".encode(), big_file)])
    reply = client.post("/nl/brievenbus/bericht", data=body, content_type=content_type)
    assert reply.status_code == 303
    client.post("/nl/brievenbus/gesprek", data={"csrf_token": token, "way": "phone", "note": f"bel {canary}"})
    client.post("/nl/brievenbus/identiteit", data={"csrf_token": token, "identity": f"later {canary}", "step": "share"})
    mailbox = client.get("/nl/brievenbus").get_data(as_text=True)
    assert mailbox.count(canary) >= 10  # the reporter reads it all back
    link = re.findall(r'href="(/nl/brievenbus/bijlage/[0-9a-f]+)"', mailbox)
    assert any(client.get(url).data == big_file for url in link)

    with db.session_scope(app) as session:
        assert session.scalars(select(Attachment)).all() and session.scalars(select(Message)).all()
    needle = canary.encode()
    assert needle not in database_bytes(app)
    assert needle not in tree_bytes(app.config["MELDKLUIS"].storage_path)
    assert needle not in tree_bytes(private_tmp)
    assert needle not in tree_bytes(app.config["MELDKLUIS"].instance_path)
    assert canary not in caplog.text
    assert temp_files_made == []


IDENTIFYING = {
    "User-Agent": "DistinctiveAgent/9.9 (reporter-fingerprint-ua)",
    "Accept-Language": "xx-DISTINCTLANG",
    "X-Forwarded-For": "203.0.113.77",
    "X-Real-IP": "203.0.113.78",
}
REMOTE_ADDR = "198.51.100.23"


def test_identifying_request_data_is_never_stored_or_logged(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": REMOTE_ADDR})
    client.environ_base.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in IDENTIFYING.items()})
    data = report_form(client, "/nl/melden/misstand")
    data["files"] = [(io.BytesIO(b"evidence"), "a.txt")]
    response = client.post("/nl/melden/misstand", data=data, content_type="multipart/form-data")
    code, words = credentials(response.get_data(as_text=True))
    assert log_in(client, code, words).status_code == 303
    token = csrf_token(client, "/nl/brievenbus")
    client.post("/nl/brievenbus/bericht", data={"csrf_token": token, "body": "nog iets",
                                                "files": [(io.BytesIO(b"x"), "b.txt")]},
                content_type="multipart/form-data")
    client.post("/nl/brievenbus/gesprek", data={"csrf_token": token, "way": "in_person", "note": ""})
    stored = database_bytes(app) + tree_bytes(app.config["MELDKLUIS"].instance_path)
    for value in [*IDENTIFYING.values(), REMOTE_ADDR, "DistinctiveAgent", "DISTINCTLANG"]:
        assert value.encode() not in stored, value
        assert value not in caplog.text, value

    with db.session_scope(app) as session:
        case = session.scalars(select(Case)).one()
        rows: list[object] = [case, *session.scalars(select(Message)), *session.scalars(select(Attachment)),
                              *session.scalars(select(Participant))]
        for row in rows:
            for column in row.__table__.columns:  # type: ignore[attr-defined]
                value = getattr(row, column.key)
                assert not isinstance(value, datetime), f"{row.__tablename__}.{column.key} holds a time"  # type: ignore[attr-defined]
        assert isinstance(case.received_on, date)
