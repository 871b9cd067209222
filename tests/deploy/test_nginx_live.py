"""The real nginx (deploy/nginx/) in front of the real gunicorn (deploy/gunicorn.conf.py) on PostgreSQL.

- Ten slow clients (slow headers, or slow upload bodies) do not stop a normal GET answering within 2 s.
- A 50 MB attachment download leaves nothing in nginx's temp folders, even while the client is slow to read.
- No client address, User-Agent or Accept-Language reaches a log, the database or the disk; malformed
  requests (invalid HTTP version, oversized header, ...) included, sent through nginx and to gunicorn directly.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import db
from tests.deploy.conftest import files_under
from tests.deploy.live import (
    CLIENT_ADDRESS,
    MALFORMED,
    USER_AGENT,
    Browser,
    Server,
    expected_file,
    gunicorn,
    nginx,
    raw_request,
    submit_fields,
)
from tests.reporter.conftest import credentials, database_bytes, tree_bytes

FILE_SIZE = 50 * 1024 * 1024
SLOW_CLIENTS = 10


@pytest.fixture
def stack(app: Flask, tmp_path: Path, add_recipient: Callable[[str, str], str],
          redis_url: str) -> Iterator[tuple[Server, Server]]:
    """gunicorn (two workers, four threads each, limits in Redis) and nginx in front of it; yields (nginx, gunicorn)."""
    if db.engine_of(app).dialect.name != "postgresql":
        pytest.skip("runs gunicorn with several workers, which needs PostgreSQL: set DATABASE_URL=postgresql://...")
    add_recipient("hanna", "misstand")
    settings = app.config["MELDKLUIS"]
    environment = {
        "DATABASE_URL": settings.database_url, "MELDKLUIS_INSTANCE": str(settings.instance_path),
        "MELDKLUIS_STORAGE": str(settings.storage_path), "MELDKLUIS_KDF": "test",
        "MELDKLUIS_WORKERS": "2", "MELDKLUIS_THREADS": "4",
        "MELDKLUIS_REDIS_URL": redis_url, "MELDKLUIS_REDIS_PREFIX": f"mk-nginx-live-{secrets.token_hex(4)}:",
    }
    with gunicorn(tmp_path, environment) as app_server, nginx(tmp_path / "nginx-run", app_server.port) as front:
        _warm_up(app_server.port)
        yield front, app_server


def _warm_up(port: int) -> None:
    """Concurrent GETs straight to gunicorn, so that every worker has loaded its templates and connected."""
    def get() -> None:
        assert Browser(port).get("/nl/", timeout=30).status == 200

    threads = [threading.Thread(target=get) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def _slow_client(port: int, kind: str, stop: threading.Event, opened: list[socket.socket]) -> None:
    """One byte every two seconds until told to stop (at most 30 bytes): slow headers or a slow upload body."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(CLIENT_ADDRESS, 0))
    except OSError:
        return
    opened.append(sock)
    try:
        if kind == "body":
            sock.sendall(b"POST /nl/melden/misstand HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
                         b"Content-Type: multipart/form-data; boundary=slow\r\n\r\n")
            trickle = b"-" * 30
        else:
            trickle = b"GET /nl/ HTTP/1.1\r\nHost: x\r\nX-Slow: 123"[:30]
        for byte in trickle:
            sock.sendall(bytes([byte]))
            if stop.wait(2):
                return
    except OSError:
        return  # nginx closed the connection: that is one of the defences


@pytest.mark.parametrize("kind", ["headers", "body"])
def test_ten_slow_clients_do_not_stop_a_normal_get(stack: tuple[Server, Server], kind: str) -> None:
    front, _app_server = stack
    stop = threading.Event()
    opened: list[socket.socket] = []
    threads = [threading.Thread(target=_slow_client, args=(front.port, kind, stop, opened), daemon=True)
               for _ in range(SLOW_CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)  # every slow client is connected and has begun to trickle
        assert len(opened) == SLOW_CLIENTS
        visitor = Browser(front.port)
        timings = []
        for _ in range(6):
            started = time.monotonic()
            try:
                status = visitor.get("/nl/", timeout=2).status
            except TimeoutError:
                status = 0
            timings.append((status, round(time.monotonic() - started, 2)))
            time.sleep(0.5)
        assert all(status == 200 and took < 2 for status, took in timings), timings
    finally:
        stop.set()
        for sock in opened:
            sock.close()
        for thread in threads:
            thread.join(timeout=5)


def _temp_files(front: Server) -> list[str]:
    """Files in nginx's temp folders, including those nginx holds open after unlinking them (it does so at once)."""
    temp = front.log.parent / "temp"
    found = [str(path) for path in files_under(temp)]
    pids = [front.process.pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == front.process.pid:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith(str(temp)):
                found.append(target)
    return found


def test_large_download_never_touches_nginx_temp_and_no_client_detail_is_written(
    app: Flask, stack: tuple[Server, Server]
) -> None:
    front, app_server = stack
    reporter = Browser(front.port)
    sent = reporter.post_multipart("/nl/melden/misstand", submit_fields(reporter),
                                   file_name="groot.bin", file_size=FILE_SIZE)
    assert sent.status == 200, (sent.status, re.findall(r"class=\"[^\"]*error[^\"]*\"[^>]*>([^<]*)", sent.text))
    code, passphrase = credentials(sent.text)
    assert _temp_files(front) == []  # the upload streamed through (request buffering off)

    token = reporter.tokens("/nl/brievenbus/inloggen")["csrf_token"]
    login = reporter.post_form("/nl/brievenbus/inloggen", {"csrf_token": token, "receipt_code": code,
                                                           "passphrase": passphrase})
    assert login.status == 303 and reporter.cookies
    mailbox = reporter.get("/nl/brievenbus")
    link = re.findall(r'href="(/nl/brievenbus/bijlage/[0-9a-f]+)"', mailbox.text)
    assert len(link) == 1

    # Read the 50 MB slowly at first, so that a buffering proxy would have to put it somewhere.
    connection = reporter.connection(timeout=60)
    connection.request("GET", link[0], headers=reporter.headers())
    response = connection.getresponse()
    assert response.status == 200
    seen: list[str] = []
    digest = hashlib.sha256()
    received = 0
    for _ in range(10):
        time.sleep(0.2)
        seen += _temp_files(front)
    while chunk := response.read(1024 * 1024):
        digest.update(chunk)
        received += len(chunk)
        seen += _temp_files(front)
    connection.close()
    assert received == FILE_SIZE
    assert digest.digest() == hashlib.sha256(expected_file(FILE_SIZE)).digest()
    assert seen == [] and _temp_files(front) == []

    # Malformed requests, through nginx and straight to gunicorn (as a misconfigured host would expose it).
    for port in (front.port, app_server.port):
        for request in MALFORMED:
            answer = raw_request(port, request)
            assert answer.startswith(b"HTTP/1.") and b" 200 " not in answer.split(b"\r\n", 1)[0], answer[:200]
    assert Browser(front.port).get("/nl/").status == 200  # the server is still there
    # nginx passes the app's own security headers through, once, without replacing them.
    page = raw_request(front.port, b"GET /nl/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert page.lower().count(b"\r\ncontent-security-policy:") == 1
    assert page.lower().count(b"\r\nreferrer-policy:") == 1

    settings = app.config["MELDKLUIS"]
    written = (front.log_text().encode() + app_server.log_text().encode() + database_bytes(app)
               + tree_bytes(settings.instance_path) + tree_bytes(front.log.parent / "temp"))
    for detail in (CLIENT_ADDRESS, USER_AGENT, "DistinctiveAgent", "xx-DISTINCT"):
        assert detail.encode() not in written, detail
