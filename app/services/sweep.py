"""`meldkluis gc`: remove what a crash left behind and what no request will come back for.

- **Ciphertext without a row.** A worker killed mid-upload (`kill -9`, out of memory, power loss) leaves its
  half-written file: no request is left to remove it (app/services/storage.py `FileBatch` handles every
  other way out). A file is removed only when its name has no attachment row *and* it was last written
  longer ago than `Settings.upload_grace_hours`, the longest an upload may take: a file being uploaded is
  written to continuously, so its modification time stays recent.
- **Staff session rows** idle past the idle limit or older than the absolute limit: they hold the re-wrapped
  private key, and a session whose cookie never comes back would otherwise stay until the next login.

Interplay with file times: committed files may get a coarse modification time (the start of the day, so a
copy of the disk dates nothing finer than the day). That time can be older than the grace period, so the
row check is what protects them, and it is made for each file *after* the file's time was read: a row
committed before its file's time was coarsened is then always seen. A file with a row is never removed.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Attachment
from app.services import staff_auth, storage

# Stored files whose rows one query looks up (one query per file made the nightly run a round trip per file).
ROW_CHECK_BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    orphan_files: int
    kept_young_files: int
    staff_sessions: int


def sweep_orphan_files(session: Session, storage_root: Path, grace_seconds: float, *,
                       now: float | None = None) -> tuple[int, int]:
    """Remove stored files without an attachment row last written over `grace_seconds` ago.

    Returns (removed, young orphans kept for now). Names that are not storage keys are left alone. The rows
    are looked up `ROW_CHECK_BATCH` files per query, each query after the times of its files were read.
    """
    now = time.time() if now is None else now
    removed = young = 0
    if not storage_root.is_dir():
        return 0, 0
    files = _stored_files(storage_root)
    while batch := list(itertools.islice(files, ROW_CHECK_BATCH)):
        with_row = set(session.scalars(
            select(Attachment.storage_key).where(Attachment.storage_key.in_([key for key, _ in batch]))))
        for key, modified in batch:
            if key in with_row:
                continue
            if now - modified < grace_seconds:
                young += 1
                continue
            storage.delete_stored_file(storage_root, key)  # also floors the folder's times
            removed += 1
    return removed, young


def _stored_files(storage_root: Path) -> Iterator[tuple[str, float]]:
    """(storage key, modification time) of each stored file, the time read as the file is reached."""
    for folder in storage_root.iterdir():
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in folder.iterdir():
            key = path.name
            if not key.isalnum() or not key.startswith(folder.name) or not path.is_file() or path.is_symlink():
                continue
            yield key, path.stat().st_mtime


def sweep(session: Session, settings: Settings, now: datetime) -> SweepResult:
    """Everything `meldkluis gc` removes; the caller commits."""
    removed, young = sweep_orphan_files(session, settings.storage_path, settings.upload_grace_hours * 3600)
    sessions = staff_auth.purge_idle_sessions(session, settings, now)
    return SweepResult(removed, young, sessions)
