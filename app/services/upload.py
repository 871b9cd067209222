"""Streaming form parsing: every file is encrypted while the request streams in.

Werkzeug's own parser spools large uploads to a plaintext temporary file; Meldkluis never lets it see
a reporter's form. `parse_form()` reads the request body in chunks through a small incremental
multipart reader and hands each file's bytes straight to an `AttachmentWriter` (encrypting, random
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
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.http import parse_options_header

from app.services.storage import AttachmentWriter, NoRoom

# gunicorn reads the body in small pieces per call; 1 MiB reads keep the Python overhead per byte low.
READ_CHUNK = 1024 * 1024
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
    no_room: bool = False  # storage is down to its reserve: the files were refused, the text is kept

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


def _no_room(name: str, parsed: ParsedForm) -> None:
    parsed.no_room = True
    parsed.discard_files()
    parsed.add_error(name, str(_l("The server cannot take files at the moment. Nothing was stored. Please try "
                                  "again later, or send your text without files now.")))


def _too_long(name: str, parsed: ParsedForm) -> None:
    parsed.add_error(name, str(_l("This text is too long. Please shorten it.")))


def parse_form(stream: IO[bytes], content_type: str, *, limits: UploadLimits,
               begin_file: Callable[[], AttachmentWriter], file_fields: frozenset[str],
               into: ParsedForm | None = None) -> ParsedForm:
    """Read a form body; files in `file_fields` are encrypted as they arrive via `begin_file()`.

    `into`: the ParsedForm to fill, for a `begin_file` that must see the fields sent before the first file.

    On a malformed body raises BadRequest; on any exception every file written so far is removed.
    A file over the size limit is removed and the rest of the body is read but not stored
    (`file_too_large`), so the page can be shown again with everything the reporter typed.
    """
    mimetype, options = parse_options_header(content_type or "")
    parsed = into if into is not None else ParsedForm()
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


class _MultipartReader:
    """Incremental multipart/form-data parser that touches each body byte only a few times.

    Werkzeug's sans-IO decoder copies its whole buffer for every event, which halves upload speed; this
    reader keeps at most one read chunk plus a delimiter's length in memory and finds delimiters with
    `bytearray.find` (C speed). Events: ("part", name, filename or None), ("data", bytes), ("end",),
    ("done",). A malformed body raises BadRequest.
    """

    MAX_HEADER_BYTES = 16 * 1024

    def __init__(self, boundary: bytes) -> None:
        self.delimiter = b"\r\n--" + boundary
        # A CRLF in front lets the first boundary (which has none) match the same delimiter.
        self.buffer = bytearray(b"\r\n")
        self.state = "preamble"
        self.parts = 0

    def feed(self, chunk: bytes) -> list[tuple[object, ...]]:
        """Consume a chunk (b"" at the end of the body) and return the events it completes."""
        at_end = not chunk
        self.buffer.extend(chunk)
        events: list[tuple[object, ...]] = []
        while True:
            if self.state in ("preamble", "data"):
                index = self.buffer.find(self.delimiter)
                if index < 0:
                    keep = len(self.delimiter) - 1
                    if self.state == "data" and len(self.buffer) > keep:
                        cut = len(self.buffer) - keep
                        events.append(("data", bytes(memoryview(self.buffer)[:cut])))
                        del self.buffer[:cut]
                    elif self.state == "preamble" and len(self.buffer) > keep:
                        del self.buffer[: len(self.buffer) - keep]
                    break
                if self.state == "data":
                    if index:
                        events.append(("data", bytes(memoryview(self.buffer)[:index])))
                    events.append(("end",))
                del self.buffer[: index + len(self.delimiter)]
                self.state = "boundary"
            if self.state == "boundary":
                if len(self.buffer) < 2:
                    break
                if self.buffer.startswith(b"--"):
                    self.state = "epilogue"
                    events.append(("done",))
                    return events
                line_end = self.buffer.find(b"\r\n")
                if line_end < 0 or self.buffer[:line_end].strip(b" \t"):
                    if line_end < 0 and len(self.buffer) < 256:
                        break
                    raise BadRequest()
                del self.buffer[: line_end + 2]
                self.state = "headers"
            if self.state == "headers":
                header_end = self.buffer.find(b"\r\n\r\n", 0, self.MAX_HEADER_BYTES + 4)
                if header_end < 0:
                    if len(self.buffer) > self.MAX_HEADER_BYTES:
                        raise BadRequest()
                    break
                events.append(self._part_event(bytes(self.buffer[:header_end])))
                del self.buffer[: header_end + 4]
                self.state = "data-start"
            if self.state == "data-start":
                # Some encoders (Werkzeug's own test client) end an empty part without the CRLF
                # that belongs to the delimiter: accept "--boundary" right after the headers.
                bare = self.delimiter[2:]
                if len(self.buffer) < len(bare) and bare.startswith(self.buffer) and not at_end:
                    break
                if self.buffer.startswith(bare):
                    events.append(("end",))
                    del self.buffer[: len(bare)]
                    self.state = "boundary"
                else:
                    self.state = "data"
                continue
            if self.state == "epilogue":
                return events
        if at_end and self.state != "epilogue":
            raise BadRequest()
        return events

    def _part_event(self, raw_headers: bytes) -> tuple[object, ...]:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise BadRequest()
        # Hostile file names may be invalid UTF-8: read them with replacement characters,
        # safe_file_name() cleans up the rest.
        for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                disposition, options = parse_options_header(value.strip())
                if disposition != "form-data" or "name" not in options:
                    raise BadRequest()
                return ("part", options["name"], options.get("filename"))
        raise BadRequest()


def _parse_multipart(stream: IO[bytes], boundary: bytes, parsed: ParsedForm, limits: UploadLimits,
                     begin_file: Callable[[], AttachmentWriter], file_fields: frozenset[str]) -> None:
    reader = _MultipartReader(boundary)
    current: list[_Part] = []  # the part being read (at most one), reachable from the cleanup below
    try:
        while True:
            chunk = stream.read(READ_CHUNK)
            for event in reader.feed(chunk):
                kind = event[0]
                if kind == "done":
                    return
                if kind == "part":
                    name, filename = str(event[1]), event[2]
                    if filename is None:
                        current[:] = [_Part(name, buffer=bytearray())]
                    else:
                        current[:] = [_start_file(name, str(filename), parsed, limits, begin_file, file_fields)]
                elif kind == "data" and current:
                    data = event[1]
                    assert isinstance(data, bytes)
                    _feed(current[0], data, parsed, limits)
                elif kind == "end" and current:
                    _end_part(current.pop(), parsed)
    except BaseException:
        for part in current:
            if part.writer is not None:
                part.writer.abort()
        raise


def _start_file(name: str, filename: str, parsed: ParsedForm, limits: UploadLimits,
                begin_file: Callable[[], AttachmentWriter], file_fields: frozenset[str]) -> _Part:
    part = _Part(name, file_name=safe_file_name(filename))
    # An empty file input still sends a part with an empty file name: nothing was chosen.
    if name not in file_fields or not filename or parsed.file_too_large or parsed.no_room:
        return part
    if len(parsed.files) >= limits.max_files:
        parsed.add_error(name, str(_l("You can add at most %(n)s files.", n=limits.max_files)))
        return part
    try:
        part.writer = begin_file()
    except NoRoom:
        _no_room(name, parsed)
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
    try:
        part.writer.write(data)
    except NoRoom:
        part.writer.abort()
        part.writer = None
        _no_room(part.name, parsed)


def _end_part(part: _Part, parsed: ParsedForm) -> None:
    if part.buffer is not None:
        parsed.fields.add(part.name, _decode_text(part.name, bytes(part.buffer), parsed))
    elif part.writer is not None:
        parsed.files.append(UploadedFile(part.writer, part.file_name, part.size))
