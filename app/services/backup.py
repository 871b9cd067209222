"""`meldkluis backup PATH` and `meldkluis restore PATH`: one archive with everything an installation needs.

The archive (an uncompressed tar: ciphertext does not compress) holds
- `database/<table>.jsonl`: every row of every table, taken in one consistent snapshot (a REPEATABLE READ
  transaction on PostgreSQL, SQLite's online-backup copy), **sorted by primary key**. Keys are random, so
  the order says nothing about when a row was made; a plain `pg_dump` would write rows in heap order,
  which is insertion order and can be set against staff audit times. Session rows are left out: their
  expiry times date visits, and a restored installation starts with everyone logged out.
- `storage/<xx>/<key>`: the encrypted attachments the snapshot refers to (ciphertext only).
- `instance/secret_key`: the master secret (receipt look-ups, cookies); without it no mailbox opens.
- `manifest.json`: format, schema revision, row counts and a SHA-256 of every other member.
Every member carries the same zero time, owner and mode, so the archive dates nothing either.

Content stays sealed under case keys that only handlers and reporters can open: a backup holds no
plaintext. It does hold the master secret: keep it as carefully as the server itself.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import Connection, Engine, Table, TypeDecorator, create_engine, insert, inspect, select, text

from app import migrate
from app.config import Settings
from app.db import make_engine
from app.models import Attachment, Base
from app.services.storage import storage_path

FORMAT = 1
MANIFEST = "manifest.json"
SECRET_MEMBER = "instance/secret_key"  # noqa: S105 (a member name, not a secret)  # nosec B105 (a member name)
# Rows that only describe a live visit (an expiry time is the time of a request): never backed up.
SKIPPED_TABLES = frozenset({"reporter_session", "handler_session"})
BATCH = 500


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    rows: int
    files: int
    schema_revision: str


def _tables() -> list[Table]:
    return [table for table in Base.metadata.sorted_tables if table.name not in SKIPPED_TABLES]


def _encode(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decoder(table: Table) -> dict[str, type]:
    kinds: dict[str, type] = {}
    for column in table.columns:
        column_type = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
        try:
            kinds[column.name] = column_type.python_type
        except NotImplementedError:
            kinds[column.name] = object
    return kinds


def _decode(kind: type, value: object) -> object:
    if value is None:
        return None
    if kind is bytes:
        return base64.b64decode(str(value))
    if kind is datetime:
        return datetime.fromisoformat(str(value))
    if kind is date:
        return date.fromisoformat(str(value))
    return value


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


@contextmanager
def _snapshot(engine: Engine, workdir: Path) -> Iterator[Connection]:
    """A connection that sees one moment of the database for as long as it is open."""
    if engine.dialect.name == "sqlite":
        # The online-backup API copies the file in one short read; writers are not held up while the
        # attachments are copied. The copy lives next to the archive being written and is removed.
        copy = workdir / "snapshot.db"
        source = sqlite3.connect(str(engine.url.database))
        target = sqlite3.connect(str(copy))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        snapshot = create_engine(f"sqlite:///{copy}")
        try:
            with snapshot.connect() as connection:
                yield connection
        finally:
            snapshot.dispose()
            copy.unlink()
        return
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        connection.execute(text("SET TRANSACTION READ ONLY"))
        yield connection


def _schema_revision(connection: Connection) -> str:
    from alembic.migration import MigrationContext

    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) != 1:
        raise BackupError("the database has no single schema revision; run `meldkluis db upgrade` first")
    return heads[0]


def _write_table(archive: tarfile.TarFile, connection: Connection, table: Table, scratch: IO[bytes],
                 checksums: dict[str, str]) -> int:
    scratch.seek(0)
    scratch.truncate()
    digest = hashlib.sha256()
    count = 0
    ordered = select(table).order_by(*table.primary_key.columns)
    for row in connection.execute(ordered).mappings():
        line = json.dumps({key: _encode(value) for key, value in row.items()}, sort_keys=True).encode() + b"\n"
        scratch.write(line)
        digest.update(line)
        count += 1
    name = f"database/{table.name}.jsonl"
    size = scratch.tell()
    scratch.seek(0)
    archive.addfile(_member(name, size), scratch)
    checksums[name] = digest.hexdigest()
    return count


def _add_file(archive: tarfile.TarFile, name: str, path: Path, checksums: dict[str, str]) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
        size = handle.tell()
        handle.seek(0)
        archive.addfile(_member(name, size), handle)
    checksums[name] = digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, checksums: dict[str, str] | None = None) -> None:
    archive.addfile(_member(name, len(data)), io.BytesIO(data))
    if checksums is not None:
        checksums[name] = hashlib.sha256(data).hexdigest()


def create_backup(settings: Settings, engine: Engine, target: Path) -> BackupSummary:
    """Write the archive to `target` (mode 0600, never over an existing file; complete or not there at all)."""
    target = target.resolve()
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new name")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".meldkluis-backup-") as work:
        workdir = Path(work)
        partial = workdir / "archive.tar"
        checksums: dict[str, str] = {}
        counts: dict[str, int] = {}
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with (os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive,
              _snapshot(engine, workdir) as connection, tempfile.TemporaryFile(dir=workdir) as scratch):
            revision = _schema_revision(connection)
            for table in _tables():
                counts[table.name] = _write_table(archive, connection, table, scratch, checksums)
            keys = connection.execute(select(Attachment.storage_key).order_by(Attachment.storage_key)).scalars()
            for key in keys:
                path = storage_path(settings.storage_path, key)
                if not path.is_file():
                    raise BackupError(f"attachment file {key} is missing from the storage folder "
                                      "(was a case purged during the backup? run the backup again)")
                _add_file(archive, f"storage/{key[:2]}/{key}", path, checksums)
            _add_bytes(archive, SECRET_MEMBER, (settings.instance_path / "secret_key").read_bytes(), checksums)
            manifest = {"format": FORMAT, "schema_revision": revision, "rows": counts, "sha256": checksums}
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
            files = sum(1 for name in checksums if name.startswith("storage/"))
        os.replace(partial, target)
    return BackupSummary(rows=sum(counts.values()), files=files, schema_revision=revision)


# --- restore ---------------------------------------------------------------------------------------


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        assert handle is not None
        manifest: dict[str, Any] = json.loads(handle.read())
    except (KeyError, AssertionError, ValueError) as error:
        raise BackupError("not a Meldkluis backup (no readable manifest.json)") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not supported by this version")
    return manifest


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return False
    if name in (MANIFEST, SECRET_MEMBER):
        return True
    if path.parts[0] == "database":
        return len(path.parts) == 2 and name.endswith(".jsonl")
    return len(path.parts) == 3 and path.parts[0] == "storage" and path.parts[2].isalnum()


def verify_archive(archive_path: Path) -> dict[str, Any]:
    """Check every member against the manifest before anything is written; returns the manifest."""
    with tarfile.open(archive_path, mode="r:") as archive:
        manifest = _read_manifest(archive)
        expected: dict[str, str] = manifest["sha256"]
        seen: set[str] = set()
        for member in archive.getmembers():
            if member.name == MANIFEST:
                continue
            if not member.isfile() or not _safe_name(member.name) or member.name not in expected:
                raise BackupError(f"unexpected member {member.name!r} in the backup: refusing it")
            digest = hashlib.sha256()
            handle = archive.extractfile(member)
            assert handle is not None
            for block in iter(lambda: handle.read(1 << 20), b""):  # noqa: B023 (used at once)
                digest.update(block)
            if digest.hexdigest() != expected[member.name]:
                raise BackupError(f"checksum mismatch for {member.name}: the backup is damaged")
            seen.add(member.name)
        missing = set(expected) - seen
        if missing:
            raise BackupError(f"the backup lacks {len(missing)} member(s) its manifest lists: it is incomplete")
    return manifest


def _require_empty(settings: Settings, engine: Engine) -> None:
    names = set(inspect(engine).get_table_names()) & ({"alembic_version"} | set(Base.metadata.tables))
    if names:
        raise BackupError("the database is not empty: restore only into a new, empty installation")
    if settings.storage_path.exists() and any(p.is_file() for p in settings.storage_path.rglob("*")):
        raise BackupError(f"the storage folder {settings.storage_path} is not empty: restore only into a new one")


def _load_rows(connection: Connection, archive: tarfile.TarFile, manifest: dict[str, Any]) -> int:
    total = 0
    for table in _tables():
        name = f"database/{table.name}.jsonl"
        if name not in manifest["sha256"]:
            continue  # a table added by a later migration than the backup's
        handle = archive.extractfile(name)
        assert handle is not None
        kinds = _decoder(table)
        batch: list[dict[str, object]] = []
        for line in handle:
            row = json.loads(line)
            batch.append({key: _decode(kinds.get(key, object), value) for key, value in row.items()})
            if len(batch) >= BATCH:
                connection.execute(insert(table), batch)
                total += len(batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
            total += len(batch)
    if connection.dialect.name == "postgresql":
        for table in _tables():
            for column in table.primary_key.columns:
                if column.autoincrement is True or (column.autoincrement == "auto" and column.type.python_type is int
                                                    and len(table.primary_key.columns) == 1):
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608 (metadata names)  # nosec B608 (table and column names from our metadata)
                        f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'),
                        {"table": f'"{table.name}"', "column": column.name})
    return total


def _extract_storage(archive: tarfile.TarFile, storage_root: Path) -> int:
    """Unpack the attachments into a fresh folder beside the storage folder, then move it into place."""
    staging = storage_root.with_name(f".{storage_root.name}-restoring")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, mode=0o700)
    count = 0
    try:
        for member in archive.getmembers():
            if not member.name.startswith("storage/"):
                continue
            path = storage_path(staging, PurePosixPath(member.name).name)
            path.parent.mkdir(exist_ok=True, mode=0o700)
            source = archive.extractfile(member)
            assert source is not None
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                shutil.copyfileobj(source, handle, 1 << 20)
            count += 1
        if storage_root.exists():
            shutil.rmtree(storage_root)  # empty of files: checked before anything was written
        os.replace(staging, storage_root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return count


def _date_files(engine: Engine, storage_root: Path) -> None:
    """Give each restored file the day its row carries (00:00 UTC), never the moment of the restore."""
    with engine.connect() as connection:
        for key, day in connection.execute(select(Attachment.storage_key, Attachment.created_on)):
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            os.utime(storage_path(storage_root, key), (midnight, midnight))


def restore_backup(settings: Settings, archive_path: Path) -> BackupSummary:
    """Restore into an empty installation: schema at the backup's revision, rows, files, secret; then migrate."""
    manifest = verify_archive(archive_path)
    revision = str(manifest["schema_revision"])
    known, _heads = migrate.known_revisions()
    if revision not in known:
        raise BackupError(f"the backup is at schema revision {revision}, which this version of Meldkluis does "
                          "not know: restore it with the version that made it (or a newer one)")
    engine = make_engine(settings.database_url)
    try:
        _require_empty(settings, engine)
        migrate.upgrade(settings.database_url, revision)
        try:
            with tarfile.open(archive_path, mode="r:") as archive:
                with engine.begin() as connection:
                    rows = _load_rows(connection, archive, manifest)
                files = _extract_storage(archive, settings.storage_path)
                _date_files(engine, settings.storage_path)
                secret = archive.extractfile(SECRET_MEMBER)
                assert secret is not None
                _write_secret(settings.instance_path / "secret_key", secret.read())
        except BaseException:
            migrate.downgrade(settings.database_url, "base")
            raise
        migrate.upgrade(settings.database_url, "head")
    finally:
        engine.dispose()
    return BackupSummary(rows=rows, files=files, schema_revision=revision)


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(".secret_key.restoring")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)
