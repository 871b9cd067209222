"""Receipt code, passphrase and the reporter's derived keys."""

import math
import re

import nacl.pwhash.argon2id
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crypto.params
from crypto import (
    MAILBOX_SALT_BYTES,
    PASSPHRASE_WORDS,
    auth_key_digest,
    derive_reporter_keys,
    new_mailbox_salt,
    new_passphrase,
    new_receipt_code,
    normalize_passphrase,
    normalize_receipt_code,
    passphrase_entropy_bits,
    public_key_of,
    receipt_lookup_hash,
    verify_auth_key,
)
from crypto.reporter import wordlist

PROPERTY = settings(max_examples=100, deadline=None, database=None)
CROCKFORD = "[0-9A-HJKMNP-TV-Z]"


# --- receipt code ------------------------------------------------------------------------------------------


def test_receipt_code_format() -> None:
    code = new_receipt_code()
    assert re.fullmatch(rf"{CROCKFORD}{{4}}(-{CROCKFORD}{{4}}){{3}}", code), code
    assert normalize_receipt_code(code) == code.replace("-", "")
    assert len({new_receipt_code() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("K7QX-3M9P-ABCD-EFGH", "K7QX3M9PABCDEFGH"),
        ("k7qx 3m9p abcd efgh", "K7QX3M9PABCDEFGH"),
        ("  k7qx3m9p-abcd  efgh\n", "K7QX3M9PABCDEFGH"),
        ("OOOO-IIII-LLLL-oil0", "0000111111110110"),
        ("K7QX\u20133M9P\u2014ABCD\u00a0EFGH", "K7QX3M9PABCDEFGH"),  # en dash, em dash, no-break space
        ("\uff2b7QX-3M9P-ABCD-EFGH", "K7QX3M9PABCDEFGH"),  # a full-width K
    ],
)
def test_receipt_code_normalization(typed: str, normalized: str) -> None:
    assert normalize_receipt_code(typed) == normalized


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "K7QX-3M9P-ABCD",
        "K7QX-3M9P-ABCD-EFGH-J",
        "K7QX-3M9P-ABCD-EFGU",
        "K7QX-3M9P-ABCD-EFG!",
        "K" * 10_000,
    ],
)
def test_malformed_receipt_code_is_none(typed: str) -> None:
    assert normalize_receipt_code(typed) is None


def test_receipt_lookup_hash() -> None:
    key = bytes(32)
    code = new_receipt_code()
    digest = receipt_lookup_hash(code, key)
    assert len(digest) == 32
    assert receipt_lookup_hash(code.lower().replace("-", " "), key) == digest
    assert receipt_lookup_hash(code, b"\x01" * 32) != digest
    with pytest.raises(ValueError):
        receipt_lookup_hash("not a code", key)
    with pytest.raises(ValueError):
        receipt_lookup_hash(code, bytes(16))


# --- passphrase --------------------------------------------------------------------------------------------


def test_wordlist_is_the_eff_large_list() -> None:
    words = wordlist()
    assert len(words) == len(set(words)) == 7776
    assert words[0] == "abacus" and words[-1] == "zoom"
    assert wordlist() is words  # read once


def test_passphrase_entropy_reaches_80_bits() -> None:
    assert PASSPHRASE_WORDS == 7
    assert passphrase_entropy_bits() == pytest.approx(7 * math.log2(len(wordlist())))
    assert passphrase_entropy_bits() >= 80
    assert passphrase_entropy_bits() == pytest.approx(90.47, abs=0.01)


def test_passphrase_shorter_than_90_bits_is_refused() -> None:
    with pytest.raises(ValueError, match="90"):
        new_passphrase(6)
    assert len(new_passphrase(8).split(" ")) == 8


def test_passphrase_is_seven_words_from_the_list() -> None:
    words = set(wordlist())
    for _ in range(50):
        passphrase = new_passphrase()
        chosen = passphrase.split(" ")
        assert len(chosen) == 7
        assert all(word in words for word in chosen)
    assert new_passphrase() != new_passphrase()


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Zebra Acorn", "zebra acorn"),
        ("  zebra   acorn\t\n", "zebra acorn"),
        ("zebra-acorn", "zebra acorn"),
        ("zebra - acorn", "zebra acorn"),
        ("ZEBRA\u00a0ACORN", "zebra acorn"),
        ("drop-down t-shirt", "drop down t shirt"),
    ],
)
def test_normalize_passphrase(typed: str, normalized: str) -> None:
    assert normalize_passphrase(typed) == normalized


@PROPERTY
@given(st.text())
def test_normalize_passphrase_is_idempotent(text: str) -> None:
    once = normalize_passphrase(text)
    assert normalize_passphrase(once) == once


# --- derived keys ------------------------------------------------------------------------------------------


def test_reporter_keys_are_deterministic_and_independent() -> None:
    salt, passphrase = new_mailbox_salt(), new_passphrase()
    assert len(salt) == MAILBOX_SALT_BYTES == 32
    keys = derive_reporter_keys(passphrase, salt)
    assert len(keys.private) == len(keys.public) == len(keys.auth_key) == 32
    assert keys.public == public_key_of(keys.private)
    assert keys.private != keys.auth_key
    assert derive_reporter_keys(passphrase.upper().replace(" ", "  "), salt) == keys
    assert derive_reporter_keys(passphrase, new_mailbox_salt()) != keys
    assert derive_reporter_keys(passphrase + " zoom", salt) != keys
    assert keys.private.hex() not in repr(keys) and keys.auth_key.hex() not in repr(keys)


@pytest.mark.parametrize("length", [0, 8, 15, 65])
def test_reporter_salt_must_be_a_blake2b_key(length: int) -> None:
    with pytest.raises(ValueError, match="salt"):
        derive_reporter_keys(new_passphrase(), bytes(length))


def test_reporter_secrets_are_not_stretched(monkeypatch: pytest.MonkeyPatch) -> None:
    # Argon2id is for staff passwords only: a reporter derivation must not reach it.
    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("Argon2id ran for a reporter")

    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", refuse)
    derive_reporter_keys(new_passphrase(), new_mailbox_salt())
    assert not hasattr(crypto.params, "REPORTER_KDF")


def test_auth_key_verification() -> None:
    keys = derive_reporter_keys(new_passphrase(), new_mailbox_salt())
    stored = auth_key_digest(keys.auth_key)
    assert len(stored) == 32 and stored != keys.auth_key
    assert verify_auth_key(keys.auth_key, stored)
    assert not verify_auth_key(bytes(32), stored)
    assert not verify_auth_key(keys.auth_key, stored[:31])
