"""Encrypted attachments on disk: random names in the storage folder, encrypted while they stream in.

A file is encrypted chunk by chunk (crypto.stream) under its own random key; that key is sealed under
the case key. Nothing in plaintext ever touches the disk, and an unfinished upload leaves no file.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

import crypto
from app.models import Attachment, new_id
from app.services.cases import ATTACHMENT_NAME, FILE_KEY, OpenCase


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
    return f"{case_id}/{attachment_id}".encode()


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

    def write(self, data: bytes) -> None:
        """Encrypt and store the next piece; NoRoom when it would eat into the storage reserve."""
        if not has_room(self.path.parent, self.reserve_bytes, len(data)):
            raise NoRoom()
        self._pipe.write(data)

    def finish(self, session: Session, *, name: str, author_kind: str, day: date,
               message_id: str | None = None) -> Attachment:
        self._pipe.drain()
        size = self._encryptor.close()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        attachment = Attachment(
            id=self.attachment_id,
            case_id=self.opened.case.id,
            message_id=message_id,
            author_kind=author_kind,
            name_sealed=self.opened.seal(ATTACHMENT_NAME, self.attachment_id, name),
            file_key_sealed=crypto.seal_bytes(
                self.opened.key, self.file_key, case_id=self.opened.case.id, kind=FILE_KEY, row_id=self.attachment_id
            ),
            storage_key=self.storage_key,
            size=size,
            created_on=day,
        )
        session.add(attachment)
        return attachment

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._pipe.drain()
        if not self._handle.closed:
            self._handle.close()
        self.path.unlink(missing_ok=True)


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
    handle = os.fdopen(fd, "wb")
    file_key = crypto.new_file_key()
    encryptor = crypto.FileEncryptor(handle, file_key, file_binding(opened.case.id, attachment_id))
    return AttachmentWriter(opened, path, attachment_id, storage_key, file_key, handle, encryptor,
                            _EncryptionPipe(encryptor), reserve_bytes)


def read_attachment(storage_root: Path, opened: OpenCase, attachment: Attachment) -> tuple[str, Iterator[bytes]]:
    """The attachment's name and a stream of its plaintext (the stream raises on tampering or truncation)."""
    if attachment.case_id != opened.case.id:
        raise LookupError(attachment.id)
    name = opened.open(ATTACHMENT_NAME, attachment.id, attachment.name_sealed)
    file_key = crypto.open_bytes(
        opened.key, attachment.file_key_sealed, case_id=opened.case.id, kind=FILE_KEY, row_id=attachment.id
    )
    path = storage_path(storage_root, attachment.storage_key)

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            yield from crypto.iter_decrypted_file(handle, file_key, file_binding(opened.case.id, attachment.id))

    return name, chunks()


def delete_stored_file(storage_root: Path, storage_key: str) -> None:
    """Remove an encrypted file (its key is destroyed with the database row)."""
    storage_path(storage_root, storage_key).unlink(missing_ok=True)
