"""gunicorn's own error path (a response that fails while it streams) logs the exception type and frames,
never the request URI or the exception's message; and the client sees the download fail."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.config import ROOT
from app.models import Attachment
from app.services.storage import storage_path

from .test_download_integrity import CONTENT, damage, looks_complete, raw_get

CANARY = "kanarie-q8z"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gunicorn_logs_a_failed_stream_without_uri_or_message(app: Flask, client: FlaskClient, make_member, login,  # type: ignore[no-untyped-def]
                                                             make_case, tmp_path: Path) -> None:
    settings = app.config["MELDKLUIS"]
    member = make_member("anna")
    receipt = make_case(files=(("bewijs.bin", CONTENT),))
    with db.session_scope(app) as session:
        attachment = session.scalars(select(Attachment)).one()
    damage(storage_path(settings.storage_path, attachment.storage_key), "cut at a chunk boundary")
    login(client, member)
    cookie = f"mk_staff={client.get_cookie('mk_staff').value}"

    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "MELDKLUIS_INSTANCE": str(settings.instance_path), "DATABASE_URL": settings.database_url,
           "MELDKLUIS_STORAGE": str(settings.storage_path), "MELDKLUIS_KDF": "test"}
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "--workers", "1", "app:create_app()"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, log.read_text()
                time.sleep(0.2)
        path = f"/nl/handler/case/{receipt.reference}/attachment/{attachment.id}?{CANARY}=1"
        status, headers, body = raw_get(f"http://127.0.0.1:{port}", path, cookie)
        assert status == 200 and not looks_complete(status, headers, body)
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "IncompleteFile" in text or "DecryptionError" in text, text
    assert CANARY not in text and "Traceback" not in text and "truncated" not in text, text
