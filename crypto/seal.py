"""Case keys, sealed to each participant, and the texts of a case, sealed under its case key."""

import hmac
import secrets
from dataclasses import dataclass

import nacl.bindings
import nacl.public

from crypto._format import (
    KEY_SIZE,
    VERSION_BYTE,
    aead_open,
    aead_seal,
    encode_fields,
    opening,
    require_key,
    strip_version,
)
from crypto.errors import DecryptionError

_SMALL_BUCKET = 256
_LARGE_BUCKET = 64 * 1024


def new_case_key() -> bytes:
    """A random 32-byte case key: every text and file key of one case is sealed under it."""
    return secrets.token_bytes(KEY_SIZE)


def seal_case_key(case_key: bytes, recipient_public: bytes, case_id: str) -> bytes:
    """Seal a case key to one participant's X25519 public key (crypto_box_seal).

    crypto_box_seal takes no associated data, so the case id travels inside the sealed plaintext
    (version || length-prefixed case id || case key) and open_case_key checks it: a sealed key copied to
    another case's row does not open there.
    """
    require_key(case_key, "case key")
    inner = VERSION_BYTE + encode_fields(case_id) + case_key
    box = nacl.public.SealedBox(nacl.public.PublicKey(recipient_public))
    return VERSION_BYTE + bytes(box.encrypt(inner))


def open_case_key(sealed: bytes, recipient_private: bytes, case_id: str) -> bytes:
    """Open a sealed case key; DecryptionError if it is not ours, was altered, or belongs to another case."""
    body = strip_version(sealed)
    with opening():
        inner = nacl.public.SealedBox(nacl.public.PrivateKey(recipient_private)).decrypt(body)
        expected = VERSION_BYTE + encode_fields(case_id)
    if len(inner) != len(expected) + KEY_SIZE or not hmac.compare_digest(inner[: len(expected)], expected):
        raise DecryptionError("this case key belongs to another case")
    return inner[len(expected) :]


def padded_length(n: int) -> int:
    """Length of an n-byte plaintext after padding: lengths leak only their bucket.

    Buckets are powers of two from 256 bytes to 64 KiB, then whole multiples of 64 KiB. Padding always adds at
    least one byte (ISO/IEC 7816-4, libsodium's sodium_pad), hence n + 1.
    """
    if n < 0:
        raise ValueError("length must not be negative")
    need = n + 1
    if need <= _LARGE_BUCKET:
        return max(_SMALL_BUCKET, 1 << (need - 1).bit_length())
    return -(-need // _LARGE_BUCKET) * _LARGE_BUCKET


@dataclass(frozen=True)
class Meta:
    """The metadata that gives a sealed text or file key its meaning, bound into its associated data.

    The database stores these fields in the clear (the clock and the thread need them), so whoever can write
    to it could relabel a handler's message as the reporter's, turn a message into the acknowledgement that
    stops the clock, reorder a thread or move a file to another message. Bound here, any such change makes
    opening fail. Empty values and position 0 mean "not applicable" (e.g. the report is no thread message).
    """

    author_kind: str = ""  # "reporter" or "handler"
    message_kind: str = ""  # e.g. "message", "acknowledgement", "feedback"
    position: int = 0  # the message's place in its thread (1, 2, ...)
    message_id: str = ""  # the message an attachment belongs to ("" for a file of the report itself)


NO_META = Meta()


def _place(case_id: str, kind: str, row_id: str, meta: Meta) -> bytes:
    # The associated data that pins a ciphertext to its place and its meaning.
    if meta.position < 0:
        raise ValueError("position must not be negative")
    fields = (case_id, kind, row_id, meta.author_kind, meta.message_kind, str(meta.position), meta.message_id)
    return VERSION_BYTE + b"meldkluis/text" + encode_fields(*fields)


def seal_bytes(
    case_key: bytes, data: bytes, *, case_id: str, kind: str, row_id: str, meta: Meta = NO_META
) -> bytes:
    """Pad and encrypt bytes under the case key, bound to (case id, kind, row id) and ``meta``.

    Used for file keys and JSON blobs. The binding means that a ciphertext moved to another case, another
    kind of field or another row, or whose row was relabelled (``Meta``), no longer opens.
    """
    require_key(case_key, "case key")
    padded = nacl.bindings.sodium_pad(data, padded_length(len(data)))
    return aead_seal(case_key, padded, _place(case_id, kind, row_id, meta))


def open_bytes(
    case_key: bytes, sealed: bytes, *, case_id: str, kind: str, row_id: str, meta: Meta = NO_META
) -> bytes:
    """Inverse of seal_bytes; DecryptionError on a wrong key, another place or meaning, or any change."""
    with opening():
        padded = aead_open(case_key, sealed, _place(case_id, kind, row_id, meta))
        data = nacl.bindings.sodium_unpad(padded, len(padded))
    if padded_length(len(data)) != len(padded):
        raise DecryptionError("padding does not match its bucket")
    return data


def seal_text(
    case_key: bytes, text: str, *, case_id: str, kind: str, row_id: str, meta: Meta = NO_META
) -> bytes:
    """seal_bytes for a text (UTF-8): report fields, messages, notes, identity, attachment names."""
    return seal_bytes(case_key, text.encode("utf-8"), case_id=case_id, kind=kind, row_id=row_id, meta=meta)


def open_text(
    case_key: bytes, sealed: bytes, *, case_id: str, kind: str, row_id: str, meta: Meta = NO_META
) -> str:
    """Inverse of seal_text; DecryptionError on any failure, including invalid UTF-8."""
    data = open_bytes(case_key, sealed, case_id=case_id, kind=kind, row_id=row_id, meta=meta)
    with opening():
        return data.decode("utf-8")


__all__ = [
    "NO_META",
    "Meta",
    "new_case_key",
    "open_bytes",
    "open_case_key",
    "open_text",
    "padded_length",
    "seal_bytes",
    "seal_case_key",
    "seal_text",
]
