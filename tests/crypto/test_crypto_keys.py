"""Handler key pairs, password derivation, and the wraps of a private key."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    FORMAT_VERSION,
    HANDLER_KDF,
    TEST_KDF,
    DecryptionError,
    KeyPair,
    _base32,
    derive_password_key,
    generate_keypair,
    new_recovery_key,
    new_salt,
    new_session_key,
    public_key_of,
    recovery_key_to_bytes,
    unwrap_private_key,
    wrap_private_key,
)

PROPERTY = settings(max_examples=60, deadline=None, database=None)
PURPOSES = ["password", "recovery", "session"]
KEY = st.binary(min_size=32, max_size=32)


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_keypair_is_x25519_and_random() -> None:
    first, second = generate_keypair(), generate_keypair()
    assert len(first.public) == len(first.private) == 32
    assert public_key_of(first.private) == first.public
    assert first.private != second.private


def test_keypair_repr_hides_the_private_key() -> None:
    pair = generate_keypair()
    assert pair.private.hex() not in repr(pair)
    assert pair.private.hex() not in str(KeyPair(public=pair.public, private=pair.private))


def test_salt_and_session_key() -> None:
    assert len(new_salt()) == 16
    assert new_salt() != new_salt()
    assert len(new_session_key()) == 32
    assert new_session_key() != new_session_key()


def test_password_key_depends_on_password_and_salt() -> None:
    salt = new_salt()
    key = derive_password_key("correct horse", salt, TEST_KDF)
    assert len(key) == 32
    assert derive_password_key("correct horse", salt, TEST_KDF) == key
    assert derive_password_key("correct horsf", salt, TEST_KDF) != key
    assert derive_password_key("correct horse", new_salt(), TEST_KDF) != key


def test_password_is_nfc_normalised() -> None:
    salt = new_salt()
    composed = unicodedata.normalize("NFC", "wachtwoord café")
    decomposed = unicodedata.normalize("NFD", "wachtwoord café")
    assert composed != decomposed
    assert derive_password_key(composed, salt, TEST_KDF) == derive_password_key(decomposed, salt, TEST_KDF)


def test_handler_kdf_end_to_end() -> None:
    # The one test with production cost: activation, then login with the same password.
    pair, salt = generate_keypair(), new_salt()
    wrapped = wrap_private_key(
        pair.private, derive_password_key("s3cret pass", salt, HANDLER_KDF), "password"
    )
    at_login = derive_password_key("s3cret pass", salt, HANDLER_KDF)
    assert unwrap_private_key(wrapped, at_login, "password") == pair.private


@pytest.mark.parametrize("purpose", PURPOSES)
def test_wrap_round_trip(purpose: str) -> None:
    pair, wrapping_key = generate_keypair(), new_session_key()
    wrapped = wrap_private_key(pair.private, wrapping_key, purpose)
    assert wrapped[0] == FORMAT_VERSION
    assert pair.private not in wrapped
    assert unwrap_private_key(wrapped, wrapping_key, purpose) == pair.private


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("other", PURPOSES)
def test_wrap_does_not_open_for_another_purpose(purpose: str, other: str) -> None:
    wrapping_key = new_session_key()
    wrapped = wrap_private_key(generate_keypair().private, wrapping_key, purpose)
    if other != purpose:
        with pytest.raises(DecryptionError):
            unwrap_private_key(wrapped, wrapping_key, other)


def test_unknown_purpose_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="purpose"):
        wrap_private_key(bytes(32), bytes(32), "backup")
    with pytest.raises(ValueError, match="purpose"):
        unwrap_private_key(b"\x01" + bytes(72), bytes(32), "Password")


def test_wrap_rejects_bad_lengths() -> None:
    with pytest.raises(ValueError):
        wrap_private_key(bytes(31), bytes(32), "password")
    with pytest.raises(ValueError):
        wrap_private_key(bytes(32), bytes(16), "password")


@PROPERTY
@given(private=KEY, wrapping_key=KEY, other_key=KEY, data=st.data())
def test_wrap_fails_closed(
    private: bytes, wrapping_key: bytes, other_key: bytes, data: st.DataObject
) -> None:
    wrapped = wrap_private_key(private, wrapping_key, "session")
    bit = data.draw(st.integers(0, len(wrapped) * 8 - 1), label="bit")
    cut = data.draw(st.integers(0, len(wrapped) - 1), label="cut")
    with pytest.raises(DecryptionError):
        unwrap_private_key(flip(wrapped, bit), wrapping_key, "session")
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped[:cut], wrapping_key, "session")
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped + b"\x00", wrapping_key, "session")
    if other_key != wrapping_key:
        with pytest.raises(DecryptionError):
            unwrap_private_key(wrapped, other_key, "session")


def test_unwrap_with_malformed_key_is_a_decryption_error() -> None:
    wrapped = wrap_private_key(bytes(32), bytes(32), "session")
    with pytest.raises(DecryptionError):
        unwrap_private_key(wrapped, bytes(31), "session")


def test_recovery_key_format() -> None:
    text = new_recovery_key()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){12}", text), text
    assert len(recovery_key_to_bytes(text)) == 32
    assert new_recovery_key() != text


@PROPERTY
@given(st.binary(min_size=32, max_size=32))
def test_recovery_key_tolerates_how_humans_type(raw: bytes) -> None:
    text = _base32.group(_base32.encode(raw))
    assert recovery_key_to_bytes(text) == raw
    sloppy = "  " + text.lower().replace("-", " ").replace("0", "o").replace("1", "l") + "\n"
    assert recovery_key_to_bytes(sloppy) == raw
    assert recovery_key_to_bytes(text.replace("-", "").replace("1", "I")) == raw


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ABCD",
        "0" * 51,
        "0" * 53,
        "U" + "0" * 51,  # U is not in Crockford's alphabet
        "!" + "0" * 51,
        "0" * 51 + "1",  # non-zero padding bits: a second spelling of some key
        "0" * 5000,
    ],
)
def test_malformed_recovery_key_is_rejected(text: str) -> None:
    with pytest.raises(DecryptionError):
        recovery_key_to_bytes(text)


def test_recovery_key_wraps_directly() -> None:
    pair, recovery = generate_keypair(), new_recovery_key()
    wrapped = wrap_private_key(pair.private, recovery_key_to_bytes(recovery), "recovery")
    assert unwrap_private_key(wrapped, recovery_key_to_bytes(recovery.lower()), "recovery") == pair.private
