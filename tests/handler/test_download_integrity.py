"""A damaged stored file never arrives as a complete download, for the handler nor for the reporter.

Read over real HTTP/1.0 as a proxy reads its upstream (nginx's default): without a Content-Length the end of
the connection would be the end of the file, and a cut file would look whole.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import Attachment
from app.services import mailbox as mailboxes
from app.services.storage import storage_path
from crypto.stream import CHUNK_SIZE

from .conftest import csrf

CONTENT = os.urandom(3 * CHUNK_SIZE + 1000)
TAG_BYTES = 17
HEADER_BYTES = 1 + 24


def raw_get(base_url: str, path: str, cookie: str) -> tuple[int, dict[str, str], bytes]:
    """GET over HTTP/1.0, reading until the server closes: status, headers, body as they came."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as connection:
        connection.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n\r\n".encode())
        received = bytearray()
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def looks_complete(status: int, headers: dict[str, str], body: bytes) -> bool:
    """What a browser would accept as a finished download."""
    if status != 200:
        return False
    if "content-length" in headers:
        return len(body) == int(headers["content-length"])
    return headers.get("transfer-encoding") != "chunked"  # HTTP/1.0: the close is the end


def damage(path: Any, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "cut at a chunk boundary":
        data = data[: HEADER_BYTES + 2 * (CHUNK_SIZE + TAG_BYTES)]
    else:
        data[HEADER_BYTES + CHUNK_SIZE + TAG_BYTES + 100] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["cut at a chunk boundary", "a flipped byte in the second chunk"])
def test_damaged_file_never_downloads_complete(app: Flask, client: FlaskClient, live_server: str, make_member,
                                               login, make_case: Callable[..., Any], how: str) -> None:
    anna = make_member("anna")
    receipt = make_case(files=(("bewijs.bin", CONTENT),))
    with db.session_scope(app) as session:
        attachment = session.scalar(select(Attachment))
        assert attachment is not None
        attachment_id, key = attachment.id, attachment.storage_key
    settings = app.config["MELDKLUIS"]
    login(client, anna)
    staff_cookie = f"mk_staff={client.get_cookie('mk_staff').value}"
    reporter = app.test_client()
    token = csrf(reporter, "/nl/brievenbus/inloggen")
    reporter.post("/nl/brievenbus/inloggen", data={"csrf_token": token, "receipt_code": receipt.receipt_code,
                                                   "passphrase": receipt.passphrase})
    mailbox_cookie = f"{mailboxes.COOKIE_NAME}={reporter.get_cookie(mailboxes.COOKIE_NAME).value}"
    handler_path = f"/nl/handler/case/{receipt.reference}/attachment/{attachment_id}"
    reporter_path = f"/nl/brievenbus/bijlage/{attachment_id}"

    # Intact, both downloads are complete and exact.
    for path, cookie in ((handler_path, staff_cookie), (reporter_path, mailbox_cookie)):
        status, headers, body = raw_get(live_server, path, cookie)
        assert looks_complete(status, headers, body) and body == CONTENT

    damage(storage_path(settings.storage_path, key), how)
    for path, cookie in ((handler_path, staff_cookie), (reporter_path, mailbox_cookie)):
        status, headers, body = raw_get(live_server, path, cookie)
        assert not looks_complete(status, headers, body), path
        assert body != CONTENT
