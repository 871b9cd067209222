"""The streaming form parser and file-name cleaning."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from werkzeug.exceptions import BadRequest

from app.services import upload
from app.services.upload import UploadLimits, parse_form, safe_file_name

from .conftest import multipart_body


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\jan\\rapport.docx", "rapport.docx"),
    ("a\x00b\x07\u202ec.txt", "abc.txt"),
    ("  ..verborgen.  ", "verborgen"),
    ("", "attachment"),
    ("/", "attachment"),
    ("n" * 300, "n" * 120),
    ("d" * 300 + ".jpeg", "d" * 115 + ".jpeg"),
    ("foto\nmet\tspaties.jpg", "foto met spaties.jpg"),
])
def test_safe_file_name(raw: str, expected: str) -> None:
    assert safe_file_name(raw) == expected


def test_content_disposition_is_always_an_attachment_with_both_names() -> None:
    header = upload.content_disposition('rapport "été".pdf')
    assert header.startswith('attachment; filename="rapport __t__.pdf"; filename*=UTF-8\'\'')
    assert "%C3%A9t%C3%A9" in header


class Recorder:
    """A stand-in AttachmentWriter that keeps bytes in memory and remembers aborts."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.data.extend(data)

    def abort(self) -> None:
        self.aborted = True


LIMITS = UploadLimits(max_files=2, max_file_bytes=100_000, max_field_bytes=1000)


def parse(body: bytes, content_type: str, writers: list[Recorder], limits: UploadLimits = LIMITS):  # type: ignore[no-untyped-def]
    def begin() -> Recorder:
        writers.append(Recorder())
        return writers[-1]

    return parse_form(io.BytesIO(body), content_type, limits=limits, begin_file=begin,  # type: ignore[arg-type]
                      file_fields=frozenset({"files"}))


def test_files_stream_into_writers_and_fields_are_decoded() -> None:
    content = bytes(range(256)) * 300  # crosses many read chunks
    body, content_type = multipart_body([("what", "één".encode())], [(b"a.bin", content), (b"", b"")])
    writers: list[Recorder] = []
    parsed = parse(body, content_type, writers)
    assert parsed.fields["what"] == "één" and not parsed.errors
    assert len(writers) == 1 and bytes(writers[0].data) == content
    assert [(f.name, f.size) for f in parsed.files] == [("a.bin", len(content))]


def test_limits_become_messages_and_remove_files() -> None:
    body, content_type = multipart_body([("what", b"w" * 1500)], [(b"a", b"x"), (b"b", b"y"), (b"c", b"z")])
    writers: list[Recorder] = []
    parsed = parse(body, content_type, writers)
    assert parsed.errors["what"] and parsed.errors["files"] and len(parsed.fields["what"]) == 1000
    assert len(writers) == 2  # the third file was never stored
    body, content_type = multipart_body([], [(b"a", b"x"), (b"big", b"b" * 100_001)])
    writers = []
    parsed = parse(body, content_type, writers)
    assert parsed.file_too_large and parsed.files == [] and all(w.aborted for w in writers)


def test_a_malformed_body_is_a_bad_request_and_leaves_nothing() -> None:
    body, content_type = multipart_body([], [(b"a", b"x" * 200_000)])
    writers: list[Recorder] = []
    with pytest.raises(BadRequest):
        parse(body[: len(body) // 2], content_type, writers)
    assert writers and all(w.aborted for w in writers)
    with pytest.raises(BadRequest):
        parse(b"x", "text/plain", [])


def test_urlencoded_forms_are_read_with_the_same_limits() -> None:
    parsed = parse(b"what=caf%C3%A9&who=%FF", "application/x-www-form-urlencoded", [])
    assert parsed.fields["what"] == "café" and parsed.errors["who"]


def test_real_writer_leaves_no_file_when_aborted(tmp_path: Path) -> None:
    from app.models import Case
    from app.services import storage
    from app.services.cases import OpenCase

    opened = OpenCase(Case(id="c" * 32), b"k" * 32)
    body, content_type = multipart_body([], [(b"a", b"x" * 10), (b"big", b"b" * 100_001)])
    parsed = parse_form(io.BytesIO(body), content_type, limits=LIMITS,
                        begin_file=lambda: storage.begin_attachment(tmp_path, opened), file_fields=frozenset({"files"}))
    assert parsed.file_too_large
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
