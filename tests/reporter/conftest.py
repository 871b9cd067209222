"""Reporter-side helpers: a CSRF token without a cookie, a filled-in report, handlers as recipients."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import Channel, ChannelRecipient
from app.services import accounts
from app.services.submission import ReportInput, new_submission_token

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the first form on a page (tokens are signed, not stored, so any page's works)."""
    response = client.get(path)
    found = TOKEN.search(response.get_data(as_text=True))
    assert found, f"no csrf token on {path}"
    return found.group(1)


def report_fields(text: str = "Er wordt gefraudeerd met declaraties.") -> dict[str, str]:
    return {"what": text, "when": "vorige maand", "where": "afdeling inkoop", "who": "een manager",
            "how_known": "ik zag het zelf", "ongoing": "yes", "evidence": "bonnetjes"}


def sample_report(**overrides: Any) -> ReportInput:
    values: dict[str, Any] = {"channel_slug": "misstand", "category": "fraude", "fields": report_fields()}
    values.update(overrides)
    return ReportInput(**values)


@pytest.fixture(autouse=True)
def _channels_have_a_reader(request: pytest.FixtureRequest) -> None:
    """Reports need a reader; tests that choose their own recipients (or none) say so by their fixtures."""
    if "app" in request.fixturenames and not {"add_recipient", "no_reader"} & set(request.fixturenames):
        request.getfixturevalue("reader")


@pytest.fixture
def no_reader() -> None:
    """Marks a test about channels that nobody can read."""


@pytest.fixture
def add_recipient(app: Flask) -> Callable[[str, str], str]:
    """Make an activated handler a recipient of a channel; returns the user id."""

    def make(username: str, channel_slug: str = "misstand") -> str:
        with db.session_scope(app) as session:
            user = accounts.create_user(session, username, ["handler"], display_name=username.title())
            accounts.activate_user(session, user, "a long enough password 123", app.config["MELDKLUIS"].handler_kdf)
            channel = session.scalar(select(Channel).where(Channel.slug == channel_slug))
            assert channel is not None
            session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
            return user.id

    return make


def submit_form_data(token: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"csrf_token": token, "once": new_submission_token(), "category": "fraude", **report_fields()}
    data.update(overrides)
    return data


TICKED = re.compile(r'<input checked id="[^"]*" name="recipients" type="checkbox" value="([^"]+)"')


def report_form(client: FlaskClient, path: str, **overrides: Any) -> dict[str, Any]:
    """The submit form as a browser sends it untouched: its CSRF token and the recipients ticked by default."""
    html = client.get(path).get_data(as_text=True)
    found = TOKEN.search(html)
    assert found, f"no csrf token on {path}"
    return submit_form_data(found.group(1), recipients=TICKED.findall(html), **overrides)


def multipart_body(fields: list[tuple[str, bytes]], files: list[tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """A hand-made multipart body (raw bytes, so tests can send what no browser would)."""
    boundary = "mk-test-boundary-7f3a"
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n")
    for filename, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="'.encode() + filename
                     + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


RECEIPT = re.compile(r'id="receipt-code">([^<]+)<')
PASSPHRASE = re.compile(r'id="passphrase"[^>]*>([^<]+)<')


def credentials(html: str) -> tuple[str, str]:
    code, words = RECEIPT.search(html), PASSPHRASE.search(html)
    assert code and words, "no receipt on the page"
    return code.group(1).strip(), words.group(1).strip()


def log_in(client: FlaskClient, code: str, passphrase: str, lang: str = "nl") -> Any:
    token = csrf_token(client, f"/{lang}/brievenbus/inloggen")
    return client.post(f"/{lang}/brievenbus/inloggen",
                       data={"csrf_token": token, "receipt_code": code, "passphrase": passphrase})


def submit_via_http(client: FlaskClient, lang: str = "nl", slug: str = "misstand", files: Any = None,
                    **overrides: Any) -> Any:
    data = report_form(client, f"/{lang}/melden/{slug}", **overrides)
    data["files"] = files or []
    return client.post(f"/{lang}/melden/{slug}", data=data, content_type="multipart/form-data")


def stored_files(app: Flask) -> list[str]:
    root = app.config["MELDKLUIS"].storage_path
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def count_rows(app: Flask, model: Any) -> int:
    from sqlalchemy import func

    with db.session_scope(app) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def database_bytes(app: Flask) -> bytes:
    """Every byte the database holds: the SQLite file, or every row of every PostgreSQL table as text and bytea."""
    engine = db.engine_of(app)
    if engine.dialect.name == "sqlite":
        from pathlib import Path

        path = Path(str(engine.url.database))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    from sqlalchemy import text

    from app.models import Base

    chunks: list[bytes] = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
            # The whole row as PostgreSQL prints it (bytea as hex), besides the raw values above.
            as_text = f'SELECT CAST("{table.name}" AS text) FROM "{table.name}"'  # noqa: S608 (names from metadata)
            for row in connection.execute(text(as_text)):
                chunks.append(str(row[0]).encode())
    return b"\n".join(chunks)


def tree_bytes(root: Any) -> bytes:
    from pathlib import Path

    base = Path(root)
    if not base.exists():
        return b""
    return b"\n".join(p.read_bytes() + str(p).encode() for p in base.rglob("*") if p.is_file())
