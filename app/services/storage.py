"""Encrypted attachments on disk: random names in the storage folder, encrypted while they stream in.

A file is encrypted chunk by chunk (crypto.stream) under its own random key and padded to its Padmé
size; that key is sealed under the case key together with the real size, which is stored nowhere else.
Nothing in plaintext ever touches the disk, and an unfinished upload leaves no file.

File times say the day, not the time: every change to the storage folder is followed by setting the
atime and mtime of what changed (the file, its two-character folder, the storage root) to 00:00 UTC of the
UTC day they show. A finished file keeps its exact time until its row is committed (`settle_times`), so that
the garbage collector, which removes row-less files older than the longest upload, cannot take it first.
Reads open files with O_NOATIME. ctime and birth time cannot be set by a program (SECURITY.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO, NamedTuple

from sqlalchemy.orm import Session

import crypto
from app.models import Attachment, new_id
from app.services.cases import ATTACHMENT_NAME, OpenCase, attachment_meta
from crypto.bundle import attachment_binding


class NoRoom(OSError):
    """The storage volume is down to its reserve: no new file is taken (the reserve keeps the database and the
    files already accepted writable, so a flood of uploads cannot fill the disk)."""


def has_room(folder: Path, reserve_bytes: int, incoming: int = 0) -> bool:
    """Whether `incoming` more bytes still leave `reserve_bytes` free on the volume of `folder`."""
    if reserve_bytes <= 0:
        return True
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free - incoming >= reserve_bytes


def file_binding(case_id: str, attachment_id: str) -> bytes:
    """What a file's chunks are bound to, so a stored file cannot be swapped for another."""
    return attachment_binding(case_id, attachment_id)


DAY_SECONDS = 86_400
log = logging.getLogger(__name__)


def floor_times_to_day(path: Path) -> None:
    """Set atime and mtime of `path` to 00:00 UTC of the day its mtime falls on (missing path: nothing).

    Setting times needs the owner: a storage folder owned by another user keeps exact times, and says so in
    the log (never failing the upload that is being stored).
    """
    try:
        mtime = path.stat().st_mtime
        day_start = mtime - mtime % DAY_SECONDS
        os.utime(path, (day_start, day_start))
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("cannot set the times of %s: the storage folder must belong to the Meldkluis user", path)


def _floor_folders(storage_root: Path, path: Path) -> None:
    # A file created or removed changes its folder's mtime (and a new folder changes the root's).
    floor_times_to_day(path.parent)
    floor_times_to_day(storage_root)


def settle_times(storage_root: Path, storage_key: str) -> None:
    """After the attachment's row is committed: its file and folders show only the day."""
    path = storage_path(storage_root, storage_key)
    floor_times_to_day(path)
    _floor_folders(storage_root, path)


def storage_path(storage_root: Path, storage_key: str) -> Path:
    if not storage_key.isalnum():
        raise ValueError("invalid storage key")
    return storage_root / storage_key[:2] / storage_key


class _EncryptionPipe:
    """Encrypts and writes on a worker thread while the request thread goes on reading the upload.

    libsodium and file writes release the GIL, so reading the socket overlaps with encryption; the
    queue bounds the plaintext held in memory to a few read chunks. An error on the worker thread
    is raised again in the request thread at the next write or at close.
    """

    QUEUED_CHUNKS = 2

    def __init__(self, encryptor: crypto.FileEncryptor) -> None:
        self._encryptor = encryptor
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=self.QUEUED_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="meldkluis-encrypt", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._encryptor.write(data)
                except BaseException as exc:  # handed to the request thread
                    self._error = exc

    def write(self, data: bytes) -> None:
        self._raise_error()
        self._queue.put(data)

    def drain(self) -> None:
        """Wait until everything written is encrypted; raises the worker's error, if any."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error


@dataclass
class AttachmentWriter:
    """Encrypts one upload as it arrives; `finish()` returns the row to add, `abort()` removes the file."""

    opened: OpenCase
    path: Path
    attachment_id: str
    storage_key: str
    file_key: bytes = field(repr=False)
    _handle: BinaryIO = field(repr=False)
    _encryptor: crypto.FileEncryptor = field(repr=False)
    _pipe: _EncryptionPipe = field(repr=False)
    reserve_bytes: int = 0
    _committed: bool = field(default=False, repr=False)

    def write(self, data: bytes) -> None:
        """Encrypt and store the next piece; NoRoom when it would eat into the storage reserve."""
        if not has_room(self.path.parent, self.reserve_bytes, len(data)):
            raise NoRoom()
        self._pipe.write(data)

    def committed(self) -> None:
        """The row of this file is committed: from now on `abort()` leaves the file alone."""
        self._committed = True

    def finish(self, session: Session, *, name: str, author_kind: str, day: date,
               message_id: str | None = None) -> Attachment:
        self._pipe.drain()
        size = self._encryptor.close_padded()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        attachment = Attachment(
            id=self.attachment_id,
            case_id=self.opened.case.id,
            message_id=message_id,
            author_kind=author_kind,
            storage_key=self.storage_key,
            created_on=day,
        )
        meta = attachment_meta(attachment)
        attachment.name_sealed = self.opened.seal(ATTACHMENT_NAME, self.attachment_id, name, meta)
        attachment.file_key_sealed = crypto.seal_file_key(
            self.opened.key, self.file_key, size, case_id=self.opened.case.id, row_id=self.attachment_id, meta=meta
        )
        session.add(attachment)
        return attachment

    def abort(self) -> None:
        """Stop the encryption thread, drop the plaintext it buffers and remove the file (unless committed)."""
        if self._committed:
            return
        with contextlib.suppress(Exception):
            self._pipe.drain()
        self._encryptor.abort()
        if not self._handle.closed:
            self._handle.close()
        self.path.unlink(missing_ok=True)
        _floor_folders(self.path.parent.parent, self.path)

    def settle(self) -> None:
        """Call once the row is committed: see settle_times."""
        settle_times(self.path.parent.parent, self.storage_key)


class FileBatch:
    """Owns every file one request writes for `opened.case`, from the first byte to the commit of its row.

    `discard()` (called on every way out of the request: an error page, a refusal, an exception, a lost
    database) stops each writer's encryption thread, drops its buffered plaintext and removes its file,
    except the files whose rows were committed. What a killed worker leaves behind, `meldkluis gc` sweeps.
    """

    def __init__(self, storage_root: Path, opened: OpenCase, reserve_bytes: int = 0) -> None:
        self.storage_root = storage_root
        self.opened = opened
        self.reserve_bytes = reserve_bytes
        self._writers: list[AttachmentWriter] = []

    def begin(self) -> AttachmentWriter:
        writer = begin_attachment(self.storage_root, self.opened, self.reserve_bytes)
        self._writers.append(writer)
        return writer

    def discard(self) -> None:
        for writer in self._writers:
            writer.abort()
        self._writers.clear()


def begin_attachment(storage_root: Path, opened: OpenCase, reserve_bytes: int = 0) -> AttachmentWriter:
    """Open an encrypted file for a new attachment of `opened.case` (mode 0600, random name).

    NoRoom, now or at a later write, when the volume is down to `reserve_bytes` free.
    """
    if not has_room(storage_root, reserve_bytes):
        raise NoRoom()
    attachment_id = new_id()
    storage_key = secrets.token_hex(24)
    path = storage_path(storage_root, storage_key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    _floor_folders(storage_root, path)
    handle = os.fdopen(fd, "wb")
    file_key = crypto.new_file_key()
    encryptor = crypto.FileEncryptor(handle, file_key, file_binding(opened.case.id, attachment_id))
    return AttachmentWriter(opened, path, attachment_id, storage_key, file_key, handle, encryptor,
                            _EncryptionPipe(encryptor), reserve_bytes)


class StoredFile(NamedTuple):
    """A decrypting view of one attachment: its name, its plaintext stream and its true (unpadded) size."""

    name: str
    chunks: Iterator[bytes]
    size: int


def read_attachment(storage_root: Path, opened: OpenCase, attachment: Attachment) -> StoredFile:
    """The attachment's name, size and a stream of its plaintext (the stream raises on tampering or truncation)."""
    if attachment.case_id != opened.case.id:
        raise LookupError(attachment.id)
    meta = attachment_meta(attachment)
    name = opened.open(ATTACHMENT_NAME, attachment.id, attachment.name_sealed, meta)
    file_key = crypto.open_file_key(
        opened.key, attachment.file_key_sealed, case_id=opened.case.id, row_id=attachment.id, meta=meta
    )
    path = storage_path(storage_root, attachment.storage_key)
    binding = file_binding(opened.case.id, attachment.id)

    def chunks() -> Iterator[bytes]:
        with _open_without_atime(path) as handle:
            yield from crypto.iter_decrypted_file(handle, file_key.key, binding, file_key.size)

    return StoredFile(name, chunks(), file_key.size)


def _open_without_atime(path: Path) -> BinaryIO:
    # A read would otherwise set the file's atime to the moment a reporter (or handler) downloaded it.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
    except PermissionError:  # O_NOATIME needs the file's owner; a foreign-owned file falls back
        fd = os.open(path, os.O_RDONLY)
    return os.fdopen(fd, "rb")


def delete_stored_file(storage_root: Path, storage_key: str) -> None:
    """Remove an encrypted file (its key is destroyed with the database row)."""
    path = storage_path(storage_root, storage_key)
    path.unlink(missing_ok=True)
    _floor_folders(storage_root, path)
