"""Streaming form parsing: every file is encrypted while the request streams in.

Werkzeug's own parser spools large uploads to a plaintext temporary file; Meldkluis never lets it see
a reporter's form. `parse_form()` reads the request body in chunks through Werkzeug's sans-IO
multipart decoder and hands each file's bytes straight to an `AttachmentWriter` (encrypting, random
name). Limits are checked as the bytes arrive; problems become messages for the form, never a crash.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from app.services.storage import AttachmentWriter

READ_CHUNK = 64 * 1024
MAX_PARTS = 200
MAX_NAME_CHARS = 120
FALLBACK_NAME = "attachment"


@dataclass
class UploadedFile:
    """An attachment encrypted to disk as it arrived; its row is added when the case is committed."""

    writer: AttachmentWriter
    name: str
    size: int


@dataclass
class ParsedForm:
    """The text fields, the encrypted files and the problems found while reading the body."""

    fields: MultiDict[str, str] = field(default_factory=MultiDict)
    files: list[UploadedFile] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    file_too_large: bool = False

    def add_error(self, name: str, message: str) -> None:
        messages = self.errors.setdefault(name, [])
        if message not in messages:
            messages.append(message)

    def discard_files(self) -> None:
        for uploaded in self.files:
            uploaded.writer.abort()
        self.files.clear()


@dataclass(frozen=True)
class UploadLimits:
    max_files: int
    max_file_bytes: int
    max_field_bytes: int


_WHITESPACE = re.compile(r"\s+")


def safe_file_name(raw: str) -> str:
    """A file name that is only a name: no path, no control or invisible characters, not overlong."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _WHITESPACE.sub(" ", name)
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16 and stem:
            name = stem[: MAX_NAME_CHARS - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_NAME_CHARS].rstrip(" .")
    return name or FALLBACK_NAME


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266), so a browser never renders it."""
    name = safe_file_name(name)
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"


class _LenientDecoder(MultipartDecoder):
    # Werkzeug decodes part headers as strict UTF-8 and raises on a hostile file name; read it with
    # replacement characters instead, and let safe_file_name() clean up.
    def _parse_headers(self, data: bytes | bytearray) -> Headers:
        return super()._parse_headers(data.decode("utf-8", "replace").encode("utf-8"))


def _decode_text(name: str, raw: bytes, parsed: ParsedForm) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        parsed.add_error(name, str(_l("Some characters in this text could not be read. Please check the text "
                                      "and send it again.")))
        return raw.decode("utf-8", "replace")


def file_too_large_message(max_file_bytes: int) -> str:
    megabytes = max(1, max_file_bytes // (1024 * 1024))
    return str(_l("A file is larger than %(n)s MB. Nothing was stored.", n=megabytes))


def _too_long(name: str, parsed: ParsedForm) -> None:
    parsed.add_error(name, str(_l("This text is too long. Please shorten it.")))


def parse_form(stream: IO[bytes], content_type: str, *, limits: UploadLimits,
               begin_file: Callable[[], AttachmentWriter], file_fields: frozenset[str]) -> ParsedForm:
    """Read a form body; files in `file_fields` are encrypted as they arrive via `begin_file()`.

    On a malformed body raises BadRequest; on any exception every file written so far is removed.
    A file over the size limit is removed and the rest of the body is read but not stored
    (`file_too_large`), so the page can be shown again with everything the reporter typed.
    """
    mimetype, options = parse_options_header(content_type or "")
    parsed = ParsedForm()
    try:
        if mimetype == "multipart/form-data" and options.get("boundary"):
            _parse_multipart(stream, options["boundary"].encode("latin-1"), parsed, limits, begin_file, file_fields)
        elif mimetype == "application/x-www-form-urlencoded":
            _parse_urlencoded(stream, parsed, limits)
        else:
            raise BadRequest()
    except BaseException:
        parsed.discard_files()
        raise
    return parsed


def _parse_urlencoded(stream: IO[bytes], parsed: ParsedForm, limits: UploadLimits) -> None:
    cap = limits.max_field_bytes * 16
    body = stream.read(cap + 1)
    if len(body) > cap:
        raise BadRequest()
    for key, value in urllib.parse.parse_qsl(body.decode("latin-1"), keep_blank_values=True,
                                             encoding="latin-1", max_num_fields=MAX_PARTS):
        raw_value = value.encode("latin-1")
        if len(raw_value) > limits.max_field_bytes:
            _too_long(key, parsed)
            raw_value = raw_value[: limits.max_field_bytes]
        parsed.fields.add(key.encode("latin-1").decode("utf-8", "replace"), _decode_text(key, raw_value, parsed))


@dataclass
class _Part:
    name: str
    buffer: bytearray | None = None  # a text field
    writer: AttachmentWriter | None = None  # a file being stored
    file_name: str = ""
    size: int = 0


def _parse_multipart(stream: IO[bytes], boundary: bytes, parsed: ParsedForm, limits: UploadLimits,
                     begin_file: Callable[[], AttachmentWriter], file_fields: frozenset[str]) -> None:
    decoder = _LenientDecoder(boundary, max_parts=MAX_PARTS)
    current: list[_Part] = []  # the part being read (at most one), reachable from the cleanup below
    try:
        while True:
            chunk = stream.read(READ_CHUNK)
            decoder.receive_data(chunk or None)
            if _handle_events(decoder, current, parsed, limits, begin_file, file_fields):
                return
            if not chunk:
                raise BadRequest()
    except BaseException:
        for part in current:
            if part.writer is not None:
                part.writer.abort()
        raise


def _handle_events(decoder: MultipartDecoder, current: list[_Part], parsed: ParsedForm, limits: UploadLimits,
                   begin_file: Callable[[], AttachmentWriter], file_fields: frozenset[str]) -> bool:
    """Handle every event the decoder can yield now; True once the body is complete."""
    while True:
        try:
            event = decoder.next_event()
        except ValueError as exc:
            raise BadRequest() from exc
        if isinstance(event, NeedData):
            return False
        if isinstance(event, Epilogue):
            return True
        if isinstance(event, File):
            current[:] = [_start_file(event, parsed, limits, begin_file, file_fields)]
        elif isinstance(event, Field):
            current[:] = [_Part(event.name, buffer=bytearray())]
        elif isinstance(event, Data) and current:
            _feed(current[0], event.data, parsed, limits)
            if not event.more_data:
                _end_part(current.pop(), parsed)


def _start_file(event: File, parsed: ParsedForm, limits: UploadLimits,
                begin_file: Callable[[], AttachmentWriter], file_fields: frozenset[str]) -> _Part:
    part = _Part(event.name, file_name=safe_file_name(event.filename))
    # An empty file input still sends a part with an empty file name: nothing was chosen.
    if event.name not in file_fields or not event.filename or parsed.file_too_large:
        return part
    if len(parsed.files) >= limits.max_files:
        parsed.add_error(event.name, str(_l("You can add at most %(n)s files.", n=limits.max_files)))
        return part
    part.writer = begin_file()
    return part


def _feed(part: _Part, data: bytes, parsed: ParsedForm, limits: UploadLimits) -> None:
    if part.buffer is not None:
        if len(part.buffer) + len(data) > limits.max_field_bytes:
            _too_long(part.name, parsed)
            part.buffer.extend(data[: max(0, limits.max_field_bytes - len(part.buffer))])
        else:
            part.buffer.extend(data)
        return
    if part.writer is None:
        return  # not stored: drained
    part.size += len(data)
    if part.size > limits.max_file_bytes:
        part.writer.abort()
        part.writer = None
        parsed.file_too_large = True
        parsed.discard_files()
        parsed.add_error(part.name, file_too_large_message(limits.max_file_bytes))
        return
    part.writer.write(data)


def _end_part(part: _Part, parsed: ParsedForm) -> None:
    if part.buffer is not None:
        parsed.fields.add(part.name, _decode_text(part.name, bytes(part.buffer), parsed))
    elif part.writer is not None:
        parsed.files.append(UploadedFile(part.writer, part.file_name, part.size))
