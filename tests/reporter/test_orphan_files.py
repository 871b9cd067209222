"""Faults during an upload leave no ciphertext, no encryption thread and no buffered plaintext behind;
what a killed worker leaves, `meldkluis gc` removes, and it never touches a file that has a row."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app import db
from app.cli import main
from app.models import Attachment, Case
from app.services import mailbox as mailboxes
from app.services import storage, submission

from .conftest import count_rows, credentials, log_in, stored_files, submit_via_http

DAY = 24 * 3600


def encryption_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "meldkluis-encrypt" and t.is_alive()]


def database_gone(*args: object, **kwargs: object) -> None:
    raise OperationalError("SELECT ...", {}, Exception("terminating connection due to administrator command"))


def test_database_failure_after_the_upload_was_read_leaves_nothing(app: Flask, client: FlaskClient,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    aborted: list[int] = []
    real_abort = storage.AttachmentWriter.abort

    def watching_abort(self: storage.AttachmentWriter) -> None:
        real_abort(self)
        aborted.append(len(self._encryptor._buffer))  # the plaintext it still held

    monkeypatch.setattr(storage.AttachmentWriter, "abort", watching_abort)
    real_find = submission.find_report_channel
    calls = [0]

    def find_then_fail(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] > 1:  # the GET of the form works; the POST's lookup after parse_form fails
            database_gone()
        return real_find(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(submission, "find_report_channel", find_then_fail)
    response = submit_via_http(client, files=[(io.BytesIO(b"a" * 300_000), "a.bin"),
                                              (io.BytesIO(b"b" * 1000), "b.bin")])
    assert response.status_code == 500 and "receipt-code" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert stored_files(app) == [] and count_rows(app, Case) == 0
    assert encryption_threads() == []
    assert aborted == [0, 0]


def test_database_failure_in_a_reply_leaves_no_file(app: Flask, client: FlaskClient,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    code, words = credentials(submit_via_http(client).get_data(as_text=True))
    assert log_in(client, code, words).status_code == 303
    page = client.get("/nl/brievenbus").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    monkeypatch.setattr(mailboxes, "post_reply", database_gone)
    response = client.post("/nl/brievenbus/bericht", data={"csrf_token": token, "body": "nog iets",
                                                           "files": [(io.BytesIO(b"f" * 70_000), "f.txt")]},
                           content_type="multipart/form-data")
    assert response.status_code == 500
    assert stored_files(app) == [] and count_rows(app, Attachment) == 0
    assert encryption_threads() == []


KILLED_UPLOAD = """
import sys
from pathlib import Path
import crypto
from app.models import Case
from app.services import storage
from app.services.cases import OpenCase

writer = storage.begin_attachment(Path(sys.argv[1]), OpenCase(Case(id="c" * 32), crypto.new_case_key()))
block = b"x" * (1024 * 1024)
for step in range(10_000):
    writer.write(block)
    if step == 8:
        print(writer.path, flush=True)
"""


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_gc_removes_what_a_killed_worker_left_and_nothing_with_a_row(app: Flask, cli: CliRunner,
                                                                     make_case_with_file) -> None:
    settings = app.config["MELDKLUIS"]
    # A worker killed with SIGKILL in the middle of an upload: no request is left to clean up.
    worker = subprocess.Popen([sys.executable, "-c", KILLED_UPLOAD, str(settings.storage_path)],
                              stdout=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    leftover = Path(worker.stdout.readline().strip())
    worker.kill()
    worker.wait(timeout=30)
    assert leftover.is_file() and leftover.stat().st_size > 4 * 1024 * 1024

    committed = make_case_with_file()
    # A committed file may carry an old, coarse time (the start of its day, or older after a restore).
    age(committed, 30 * DAY)
    young = storage.begin_attachment(settings.storage_path, storage.OpenCase(Case(id="d" * 32), b"k" * 32))
    young.write(b"still arriving")

    result = cli.invoke(main, ["gc"])
    assert result.exit_code == 0, result.output
    assert leftover.exists() and committed.exists()  # both younger than the grace period (24 h)
    age(leftover, settings.upload_grace_hours * 3600 + 60)
    result = cli.invoke(main, ["gc"])
    assert result.exit_code == 0, result.output
    assert "removed 1 file(s)" in result.output
    assert not leftover.exists()
    assert committed.exists() and young.path.exists()
    young.abort()


@pytest.fixture
def make_case_with_file(app: Flask):  # type: ignore[no-untyped-def]
    def make() -> Path:
        from .conftest import sample_report

        with app.test_request_context(), db.session_scope(app) as session:
            submission.submit_report(session, app.config["MELDKLUIS"], sample_report(),
                                     [("bewijs.pdf", io.BytesIO(b"%PDF " * 1000))])
        with db.session_scope(app) as session:
            key = session.scalar(select(Attachment.storage_key))
        assert key is not None
        return storage.storage_path(app.config["MELDKLUIS"].storage_path, key)

    return make


def test_gc_looks_rows_up_in_batches_and_keeps_every_file_with_a_row(app: Flask, make_case_with_file,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import sweep

    monkeypatch.setattr(sweep, "ROW_CHECK_BATCH", 2)  # 7 files: four queries, the last one for one file
    root = app.config["MELDKLUIS"].storage_path
    committed = [make_case_with_file() for _ in range(3)]
    orphans = [storage.storage_path(root, os.urandom(24).hex()) for _ in range(4)]
    for path in [*committed, *orphans]:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(b"ciphertext")
        age(path, 30 * DAY)
    age(orphans[0], 60)  # still being written
    with db.session_scope(app) as session:
        assert sweep.sweep_orphan_files(session, root, 24 * 3600) == (3, 1)
    assert all(path.exists() for path in committed) and orphans[0].exists()
    assert not any(path.exists() for path in orphans[1:])
