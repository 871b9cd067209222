"""Handler key pairs, and the wraps that keep a private key at rest (password, recovery key, session)."""

import secrets
import unicodedata
from dataclasses import dataclass

import nacl.public
import nacl.pwhash.argon2id
import nacl.utils

from crypto import _base32
from crypto._format import VERSION_BYTE, aead_open, aead_seal, require_key
from crypto.errors import DecryptionError
from crypto.params import KdfParams

WRAP_PURPOSES = frozenset({"password", "recovery", "session"})
_RECOVERY_KEY_BYTES = 32


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair as raw 32-byte strings."""

    public: bytes
    private: bytes

    def __repr__(self) -> str:
        return f"KeyPair(public={self.public.hex()}, private=<hidden>)"


def generate_keypair() -> KeyPair:
    """A fresh X25519 key pair for a handler (made once, at account activation)."""
    private = nacl.public.PrivateKey.generate()
    return KeyPair(public=bytes(private.public_key), private=bytes(private))


def public_key_of(private_key: bytes) -> bytes:
    """The X25519 public key that belongs to ``private_key``."""
    return bytes(nacl.public.PrivateKey(private_key).public_key)


def new_salt() -> bytes:
    """A random Argon2id salt (16 bytes), one per user, so equal passwords give unrelated keys."""
    return nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)


def derive_password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    """The 32-byte key that wraps a handler's private key, derived with Argon2id.

    The password is NFC-normalised first, so the same password typed on another keyboard or operating system
    (composed or decomposed accents) gives the same key.
    """
    raw = unicodedata.normalize("NFC", password).encode("utf-8")
    return nacl.pwhash.argon2id.kdf(32, raw, salt, opslimit=params.opslimit, memlimit=params.memlimit)


def _wrap_ad(purpose: str) -> bytes:
    if purpose not in WRAP_PURPOSES:
        raise ValueError(f"unknown wrap purpose; expected one of {sorted(WRAP_PURPOSES)}")
    return VERSION_BYTE + b"meldkluis/private-key/" + purpose.encode("ascii")


def wrap_private_key(private_key: bytes, wrapping_key: bytes, purpose: str) -> bytes:
    """Encrypt a private key under a 32-byte wrapping key, bound to its purpose.

    Binding the purpose ("password", "recovery" or "session") means a wrap stored for one use cannot be
    replayed as another, e.g. a session wrap substituted for the password wrap.
    """
    require_key(private_key, "private key")
    require_key(wrapping_key, "wrapping key")
    return aead_seal(wrapping_key, private_key, _wrap_ad(purpose))


def unwrap_private_key(wrapped: bytes, wrapping_key: bytes, purpose: str) -> bytes:
    """Open a wrap made by wrap_private_key; DecryptionError on a wrong key, purpose or any change."""
    associated_data = _wrap_ad(purpose)
    private_key = aead_open(wrapping_key, wrapped, associated_data)
    if len(private_key) != 32:
        raise DecryptionError("wrapped value is not a private key")
    return private_key


def new_recovery_key() -> str:
    """A random 256-bit recovery key, for a human to write down: Crockford base32 in groups of four.

    It is a full-strength key, so it wraps the private key directly, with no KDF.
    """
    return _base32.group(_base32.encode(secrets.token_bytes(_RECOVERY_KEY_BYTES)))


def recovery_key_to_bytes(text: str) -> bytes:
    """The 32 bytes of a recovery key as typed: any case, spaces or dashes, O for 0 and I/L for 1."""
    key = _base32.decode(text, _RECOVERY_KEY_BYTES)
    if key is None:
        raise DecryptionError("this is not a well-formed recovery key")
    return key


def new_session_key() -> bytes:
    """A random 32-byte key that lives only in a session cookie and wraps the private key for that session."""
    return secrets.token_bytes(32)


__all__ = [
    "WRAP_PURPOSES",
    "KeyPair",
    "derive_password_key",
    "generate_keypair",
    "new_recovery_key",
    "new_salt",
    "new_session_key",
    "public_key_of",
    "recovery_key_to_bytes",
    "unwrap_private_key",
    "wrap_private_key",
]
