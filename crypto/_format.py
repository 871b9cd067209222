"""Building blocks shared by the formats: version byte, unambiguous field encoding, AEAD, error mapping."""

from collections.abc import Iterator
from contextlib import contextmanager

import nacl.exceptions
import nacl.secret

from crypto.errors import DecryptionError
from crypto.params import FORMAT_VERSION

VERSION_BYTE = bytes([FORMAT_VERSION])
KEY_SIZE = 32
_MAX_FIELD = 0xFFFF


def encode_fields(*fields: str | bytes) -> bytes:
    """Concatenate fields, each with a 2-byte big-endian length, so that no two field lists encode alike."""
    out = bytearray()
    for field in fields:
        raw = field.encode("utf-8") if isinstance(field, str) else field
        if len(raw) > _MAX_FIELD:
            raise ValueError("field longer than 65535 bytes")
        out += len(raw).to_bytes(2, "big") + raw
    return bytes(out)


def require_key(key: bytes, what: str) -> None:
    """Fail early, with a clear message, on a key of the wrong type or length (a programming error)."""
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise ValueError(f"{what} must be {KEY_SIZE} bytes")


@contextmanager
def opening(message: str = "wrong key, or the data was altered or moved") -> Iterator[None]:
    """Turn every failure from libsodium or from parsing into DecryptionError, chaining nothing."""
    try:
        yield
    except (nacl.exceptions.CryptoError, ValueError):
        # Chaining could carry plaintext (a UnicodeDecodeError holds the decoded bytes), hence `from None`.
        raise DecryptionError(message) from None


def strip_version(data: bytes) -> bytes:
    """Return what follows the version byte; DecryptionError for another version or a non-bytes value."""
    if not isinstance(data, bytes) or data[:1] != VERSION_BYTE:
        raise DecryptionError("unsupported format version")
    return data[1:]


def aead_seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """version || nonce || XChaCha20-Poly1305 ciphertext; PyNaCl draws the random 24-byte nonce."""
    return VERSION_BYTE + bytes(nacl.secret.Aead(key).encrypt(plaintext, associated_data))


def aead_open(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """Inverse of aead_seal; DecryptionError on any failure."""
    body = strip_version(sealed)
    with opening():
        return nacl.secret.Aead(key).decrypt(body, associated_data)
