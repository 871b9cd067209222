"""Offline export: a case as an encrypted bundle, and a handler's private key as a file.

Both are JSON documents (UTF-8) that hold only ciphertext. The server builds a bundle without any private
key: it copies the handler's sealed case key and the stored ciphertexts. Opening needs the handler's private
key and nothing from the server. Everything in a bundle may be forged by whoever made it (anyone can seal to
a public key), so open_bundle treats its contents as hostile and only returns what authenticated.
"""

import base64
import binascii
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from crypto._format import opening
from crypto.errors import DecryptionError
from crypto.keys import public_key_of, recovery_key_to_bytes, unwrap_private_key, wrap_private_key
from crypto.params import FORMAT_VERSION
from crypto.seal import NO_META, Meta, open_case_key, open_text
from crypto.stream import decrypt_file, open_file_key

BUNDLE_FORMAT = "meldkluis-bundle"
KEY_FILE_FORMAT = "meldkluis-private-key"
ATTACHMENT_NAME_KIND = "attachment-name"


@dataclass(frozen=True)
class BundleText:
    """One sealed text of the case, as stored: its kind, row id, bound metadata and seal_text ciphertext."""

    kind: str
    row_id: str
    sealed: bytes
    meta: Meta = NO_META
    day: str = ""  # plain, not authenticated: the ISO day the text was written, for reading only
    author: str = ""  # plain, not authenticated: the writer's display name (staff), for reading only


@dataclass(frozen=True)
class BundleFile:
    """One attachment, as stored: name and file key sealed under the case key, binding, encrypted stream."""

    row_id: str
    name_sealed: bytes
    file_key_sealed: bytes
    binding: bytes
    data: bytes
    meta: Meta = NO_META
    day: str = ""  # plain, not authenticated: the ISO day the file was added, for reading only


class OpenedText(NamedTuple):
    """A text of an opened case; ``meta`` (author, message kind, position) authenticated with it."""

    kind: str
    row_id: str
    text: str
    meta: Meta = NO_META
    day: str = ""  # as the bundle claims it (not authenticated)
    author: str = ""  # as the bundle claims it (not authenticated)


class OpenedFile(NamedTuple):
    """An attachment of an opened case: its row id, its original name (unsafe as a path) and its bytes."""

    row_id: str
    name: str
    data: bytes
    meta: Meta = NO_META
    day: str = ""  # as the bundle claims it (not authenticated)


@dataclass(frozen=True)
class OpenedCase:
    """The plaintext of a bundle. Files are held in memory: a bundle hands over one case, it is no archive."""

    case_id: str
    texts: list[OpenedText] = field(default_factory=list)
    files: list[OpenedFile] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # as the bundle claims them (not authenticated)


def attachment_binding(case_id: str, row_id: str) -> bytes:
    """What an attachment's stream is bound to (its case and row), so a stored file cannot pass for another.

    The server encrypts with it, and open_bundle recomputes it rather than trusting the bundle's copy.
    """
    return f"{case_id}/{row_id}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _meta_json(meta: Meta) -> dict[str, Any]:
    return {"author_kind": meta.author_kind, "message_kind": meta.message_kind, "position": meta.position,
            "message_id": meta.message_id}


def write_bundle(
    case_id: str,
    sealed_case_key: bytes,
    texts: Sequence[BundleText],
    files: Sequence[BundleFile],
    labels: Mapping[str, str] | None = None,
) -> bytes:
    """Serialise the ciphertexts of a case as a bundle (UTF-8 JSON); the case key is sealed to the reader.

    `labels` are the words of the readable case file in the handler's language (question labels, headings,
    message kinds), written by the server because the offline tool has no translations. They, the days and
    the author names are public words, not secrets, and are not authenticated: they label what the
    authenticated texts say, they never change it.
    """
    document = {
        "format": BUNDLE_FORMAT,
        "version": FORMAT_VERSION,
        "case_id": case_id,
        "sealed_case_key": _b64(sealed_case_key),
        "labels": dict(labels or {}),
        "texts": [
            {"kind": t.kind, "row_id": t.row_id, "meta": _meta_json(t.meta), "sealed": _b64(t.sealed),
             "day": t.day, "author": t.author}
            for t in texts
        ],
        "files": [
            {
                "row_id": f.row_id,
                "name_sealed": _b64(f.name_sealed),
                "file_key_sealed": _b64(f.file_key_sealed),
                "binding": _b64(f.binding),
                "data": _b64(f.data),
                "meta": _meta_json(f.meta),
                "day": f.day,
            }
            for f in files
        ],
    }
    return json.dumps(document, indent=1).encode("utf-8")


def _load_document(data: bytes, expected_format: str) -> dict[str, Any]:
    # Parse a JSON document of ours and check its format name and version.
    with opening(f"not a {expected_format} file"):
        document = json.loads(data.decode("utf-8"))
    if not isinstance(document, dict) or document.get("format") != expected_format:
        raise DecryptionError(f"not a {expected_format} file")
    version = document.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise DecryptionError(f"unsupported {expected_format} version")
    return document


def _text(obj: Any, name: str) -> str:
    value = obj.get(name) if isinstance(obj, dict) else None
    if not isinstance(value, str):
        raise DecryptionError(f"malformed file: missing or invalid {name!r}")
    return value


def _plain(obj: Any, name: str) -> str:
    # An optional display field: absent or not a string reads as empty (it carries no security meaning).
    value = obj.get(name, "") if isinstance(obj, dict) else ""
    return value if isinstance(value, str) else ""


def _labels(document: dict[str, Any]) -> dict[str, str]:
    value = document.get("labels", {})
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _bytes(obj: Any, name: str) -> bytes:
    try:
        return base64.b64decode(_text(obj, name), validate=True)
    except binascii.Error:
        raise DecryptionError(f"malformed file: {name!r} is not base64") from None


def _meta(obj: Any) -> Meta:
    # The metadata is only a claim until the ciphertext it is bound to opens with it.
    value = obj.get("meta") if isinstance(obj, dict) else None
    position = value.get("position") if isinstance(value, dict) else None
    if type(position) is not int:
        raise DecryptionError("malformed file: missing or invalid 'meta'")
    return Meta(_text(value, "author_kind"), _text(value, "message_kind"), position, _text(value, "message_id"))


def _list(obj: dict[str, Any], name: str) -> list[Any]:
    value = obj.get(name, [])
    if not isinstance(value, list):
        raise DecryptionError(f"malformed file: {name!r} is not a list")
    return value


def open_bundle(bundle_json: bytes, private_key: bytes) -> OpenedCase:
    """Open every text and file of a bundle with the handler's private key; DecryptionError on any failure.

    All-or-nothing: one item that fails to open fails the whole bundle, so a partial case is never shown.
    """
    document = _load_document(bundle_json, BUNDLE_FORMAT)
    case_id = _text(document, "case_id")
    case_key = open_case_key(_bytes(document, "sealed_case_key"), private_key, case_id)
    opened = OpenedCase(case_id=case_id, labels=_labels(document))
    for item in _list(document, "texts"):
        kind, row_id, meta = _text(item, "kind"), _text(item, "row_id"), _meta(item)
        text = open_text(case_key, _bytes(item, "sealed"), case_id=case_id, kind=kind, row_id=row_id, meta=meta)
        opened.texts.append(OpenedText(kind, row_id, text, meta, _plain(item, "day"), _plain(item, "author")))
    for item in _list(document, "files"):
        row_id, meta = _text(item, "row_id"), _meta(item)
        name_sealed, file_key_sealed = _bytes(item, "name_sealed"), _bytes(item, "file_key_sealed")
        name = open_text(case_key, name_sealed, case_id=case_id, kind=ATTACHMENT_NAME_KIND, row_id=row_id,
                         meta=meta)
        file_key = open_file_key(case_key, file_key_sealed, case_id=case_id, row_id=row_id, meta=meta)
        binding = attachment_binding(case_id, row_id)
        if "binding" in item and _bytes(item, "binding") != binding:
            raise DecryptionError("a file is bound to another case or row")
        plaintext = io.BytesIO()
        decrypt_file(io.BytesIO(_bytes(item, "data")), plaintext, file_key.key, binding, file_key.size)
        opened.files.append(OpenedFile(row_id, name, plaintext.getvalue(), meta, _plain(item, "day")))
    return opened


def export_private_key_file(private_key: bytes, recovery_key: str) -> bytes:
    """A handler's private key wrapped under their recovery key, as a file to carry to an offline machine.

    The public key is included in the clear so that the owner can check which key a file holds.
    """
    wrapped = wrap_private_key(private_key, recovery_key_to_bytes(recovery_key), "recovery")
    document = {
        "format": KEY_FILE_FORMAT,
        "version": FORMAT_VERSION,
        "public_key": _b64(public_key_of(private_key)),
        "wrapped": _b64(wrapped),
    }
    return json.dumps(document, indent=1).encode("utf-8")


def load_private_key_file(data: bytes, recovery_key: str) -> bytes:
    """The private key from a key file; DecryptionError for a wrong recovery key or a damaged file."""
    document = _load_document(data, KEY_FILE_FORMAT)
    wrapping_key = recovery_key_to_bytes(recovery_key)
    private_key = unwrap_private_key(_bytes(document, "wrapped"), wrapping_key, "recovery")
    if "public_key" in document and _bytes(document, "public_key") != public_key_of(private_key):
        raise DecryptionError("the key file's public key does not match its private key")
    return private_key


__all__ = [
    "BundleFile",
    "attachment_binding",
    "BundleText",
    "OpenedCase",
    "OpenedFile",
    "OpenedText",
    "export_private_key_file",
    "load_private_key_file",
    "open_bundle",
    "write_bundle",
]
