"""`meldkluis backup` / `meldkluis restore`: a case opens after a round trip; the archive holds only ciphertext
and dates nothing (rows sorted by random id, zero member times); restore only into an empty installation."""

from __future__ import annotations

import json
import os
import re
import secrets
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app import create_app, db
from app.cli import main
from app.models import Case, ReporterSession
from app.services import mailbox as mailboxes
from app.services.limits import Limits
from tests.conftest import empty_database, make_settings
from tests.handler.conftest import Member, csrf

CANARY = f"CANARY{secrets.token_hex(8)}"


@pytest.fixture
def filled(app: Flask, make_member: Callable[..., Member], make_case: Callable[..., object]) -> dict[str, object]:
    """An installation with a handler, six cases (one with a file) and a live reporter session."""
    member = make_member("hanna")
    evidence = (f"{CANARY} bewijs ".encode()) * 30_000
    receipts = [make_case(fields={"what": f"{CANARY} fraude {n}"}) for n in range(5)]
    receipts.append(make_case(files=((f"{CANARY}.txt", evidence),), fields={"what": f"{CANARY} met bijlage"}))
    with db.session_scope(app) as session:
        mailboxes.login(session, app.config["MELDKLUIS"], receipts[0].receipt_code, receipts[0].passphrase,  # type: ignore[attr-defined]
                        limits=Limits.in_memory())
    return {"member": member, "receipts": receipts, "evidence": evidence}


@pytest.fixture
def restored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """An empty installation: a new instance folder and a new, empty database of the suite's kind."""
    folder = tmp_path / "restored"
    folder.mkdir()
    # The `cli` fixture may have pointed DATABASE_URL at the suite's private schema: start from the server
    # (empty_database reads the variable only on entry).
    server = os.environ.get("DATABASE_URL", "")
    scratch = empty_database(folder)
    with monkeypatch.context() as patch:
        if server:
            patch.setenv("DATABASE_URL", make_url(server).difference_update_query(["options"])
                         .render_as_string(hide_password=False))
        url = scratch.__enter__()
    try:
        yield folder, url
    finally:
        scratch.__exit__(None, None, None)


def _environment(monkeypatch: pytest.MonkeyPatch, instance: Path, url: str) -> None:
    monkeypatch.setenv("MELDKLUIS_INSTANCE", str(instance))
    monkeypatch.setenv("MELDKLUIS_STORAGE", str(instance / "storage"))
    monkeypatch.setenv("DATABASE_URL", url)


def test_round_trip_opens_the_case_for_handler_and_reporter(
    app: Flask, cli: CliRunner, filled: dict[str, object], tmp_path: Path, restored: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = tmp_path / "backup.tar"
    result = cli.invoke(main, ["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "1 attachment file(s)" in result.output
    assert archive.stat().st_mode & 0o077 == 0

    folder, url = restored
    _environment(monkeypatch, folder / "instance", url)
    result = CliRunner().invoke(main, ["restore", str(archive)])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(main, ["restore", str(archive)])
    assert again.exit_code != 0 and "not empty" in again.output

    restored_files = [p for p in (folder / "instance" / "storage").rglob("*") if p.is_file()]
    assert len(restored_files) == 1 and restored_files[0].stat().st_mtime % 86400 == 0  # the day, not the restore

    copy = create_app(make_settings(folder, url))
    try:
        # The reporter's receipt opens the mailbox: the master secret and every row came back.
        receipts = filled["receipts"]
        last = receipts[-1]  # type: ignore[index]
        with copy.test_request_context(), db.session_scope(copy) as session:
            assert session.scalar(select(ReporterSession)) is None  # sessions are not backed up
            login = mailboxes.login(session, copy.config["MELDKLUIS"], last.receipt_code, last.passphrase,
                                    limits=Limits.in_memory())
            mailbox = mailboxes.resume(session, copy.config["MELDKLUIS"], login.cookie_value)
            assert mailbox is not None
            view = mailboxes.read_mailbox(session, mailbox, "nl")
            assert CANARY in repr(view)
        # The handler logs in and opens the case and its attachment over HTTP.
        member: Member = filled["member"]  # type: ignore[assignment]
        client = copy.test_client()
        token = csrf(client, "/nl/handler/login")
        response = client.post("/nl/handler/login", data={"csrf_token": token, "username": member.username,
                                                           "password": member.password, "code": member.code()})
        assert response.status_code in (302, 303)
        body = client.get(f"/nl/handler/case/{last.reference}").get_data(as_text=True)
        assert f"{CANARY} met bijlage" in body
        link = body.split(f"/nl/handler/case/{last.reference}/attachment/")[1].split('"')[0]
        assert client.get(f"/nl/handler/case/{last.reference}/attachment/{link}").data == filled["evidence"]
    finally:
        db.engine_of(copy).dispose()


def test_archive_holds_only_ciphertext_and_dates_nothing(app: Flask, cli: CliRunner, filled: dict[str, object],
                                                         tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar"
    assert cli.invoke(main, ["backup", str(archive)]).exit_code == 0
    raw = archive.read_bytes()
    assert CANARY.encode() not in raw and b"bewijs" not in raw
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        assert {m.mtime for m in members} == {0} and {m.uid for m in members} == {0}
        names = [m.name for m in members]
        storage = [n for n in names if n.startswith("storage/")]
        assert storage == sorted(storage) and len(storage) == 1
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        assert set(manifest["sha256"]) == set(names) - {"manifest.json"}
        assert "database/reporter_session.jsonl" not in names
        # Every table's rows in primary-key order (random ids), never in the order they were written.
        for name in names:
            if not name.startswith("database/"):
                continue
            rows = [json.loads(line) for line in tar.extractfile(name)]  # type: ignore[union-attr]
            if name == "database/case.jsonl":
                assert len(rows) == 6
                with db.session_scope(app) as session:
                    written = [row for row in session.scalars(select(Case.id))]  # physical order
                assert [row["id"] for row in rows] == sorted(written)
            keys = [row.get("id") for row in rows]
            if None not in keys:
                assert keys == sorted(keys), name


def test_restore_refuses_a_damaged_archive_and_writes_nothing(
    app: Flask, cli: CliRunner, filled: dict[str, object], tmp_path: Path, restored: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = tmp_path / "backup.tar"
    assert cli.invoke(main, ["backup", str(archive)]).exit_code == 0
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("storage/"))
    data[member.offset_data + 100] ^= 0xFF
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(data))
    folder, url = restored
    _environment(monkeypatch, folder / "instance", url)
    result = CliRunner().invoke(main, ["restore", str(damaged)])
    assert result.exit_code != 0 and "checksum mismatch" in result.output
    assert not (folder / "instance" / "storage").exists()
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_backup_never_overwrites(cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "exists.tar"
    target.write_bytes(b"older backup")
    result = cli.invoke(main, ["backup", str(target)])
    assert result.exit_code != 0 and "exists already" in result.output
    assert target.read_bytes() == b"older backup"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".meldkluis-backup-")]
    assert re.search("exists", result.output)
