"""Known-answer vectors, pinned once: a change to any format or derivation must fail here, not in production.

The deterministic parts (KDFs, hashes, padding) are pinned to their outputs and, where an independent
implementation is at hand (argon2-cffi, hashlib), also checked against it. The randomized formats are pinned
as one ciphertext made with an earlier build that must still open to the pinned plaintext: if one of these
tests fails, old cases would no longer open. Add a new FORMAT_VERSION instead of changing a vector.
These are format version 2 (keyed-hash reporter derivation); version 1 was never released and does not open.
"""

import hashlib
import io

import argon2.low_level
import nacl.bindings
import pytest

from crypto import (
    TEST_KDF,
    Meta,
    auth_key_digest,
    decrypt_file,
    derive_password_key,
    derive_reporter_keys,
    load_private_key_file,
    open_bundle,
    open_case_key,
    open_file_key,
    open_text,
    padded_length,
    padme,
    public_key_of,
    receipt_lookup_hash,
    recovery_key_to_bytes,
    unwrap_private_key,
)

SALT = bytes(range(16))
MAILBOX_SALT = bytes(range(32))
PASSPHRASE = "Zebra  Acorn-Drop-Down\tyo-yo cubicle"
PASSWORD = "Wachtwoord café"
RECEIPT_CODE = "K7QX-3M9P-ABCD-EFGH"
LOOKUP_KEY = bytes(range(32))
CASE_KEY = bytes(range(32))
HANDLER_PRIVATE = bytes(range(64, 96))
WRAPPING_KEY = bytes(range(100, 132))
FILE_KEY = bytes(range(200, 232))
FILE_BINDING = b"case-0001/file-1"
FILE_PLAINTEXT = b"attachment contents\n"
TEXT_PLAINTEXT = "Meldkluis — test ✓"
TEXT_META = Meta(author_kind="handler", message_kind="acknowledgement", position=3)
FILE_META = Meta(author_kind="reporter", message_id="row-1")

REPORTER_PRIVATE = "68c965ff9a52f09f8e7132eed7da745b29129f7c234777b81d93c08f21abd865"
REPORTER_PUBLIC = "70531020e1f750112a44ab13f182c19943a404eccc9880f595af51954a872447"
REPORTER_AUTH_KEY = "1a4d42945fb2fe01ef4ddab7ebca164c0ae3362fc46c1170c59ec9dc11143a99"
PASSWORD_KEY = "6a64398fad258f4cf97eadf4969953f8cf9e3181e945407c847610c180c9d477"
RECEIPT_HASH = "6c9b8ad4aa7c50b96d902179f072a0b17558d219866a435e1f4e853f24d714b0"
AUTH_DIGEST = "e36dea201fdd72f404695c567420fb70c8dd7b874a6981eba026914b7d0c9deb"
HANDLER_PUBLIC = "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
SEALED_TEXT = (
    "02b2f92dc94cb0c1a2606c6a416aba8e480ce238af83d0fa20781c5876072d865338c327307f3e1f4009399ed3eead08"
    "be6ef96c25464738c3d727f2aefae6c20714dfd5e0665ab7d9cdd7f8c0f4da5efe1e0d548cc62d08f084fb95022833a2"
    "583e937a63ad7387ab8c35ec90eee0aa6284567a93593692931c66a954aaa5e7b66912a15f1370b713bad4c1ecdd520d"
    "3d9a292d5a314ebef671468ad985c6f7ee296f7ad8c5008d902f62f20b222f3a7d1274bb25acc6e4b44aecb88d5da5b7"
    "ef4721f6e3592c980fdee80a30625260971c0ceec967dabeb75b01454aa3170e4ca889fe53a31ee31cb62e59c5c3a9ac"
    "80b2adeac7119b26cab0e93a66c8b056ff1f76f4e872f56ef697c81e11c12713d8c52f603e28c384db083aa64b3fa2e7"
    "e262272eb80ad91901"
)
SEALED_CASE_KEY = (
    "029e312c1b98829e438621e1f9290dfdbf9ea45e3bd4f34671f21f18f6d543f12b8cab12027129926d5015e6ee8a5056"
    "ac62554e9e256b5af3104540e92c7c1e54264bf8abe8895347f2c094357df6758d008d588f86412494c1f64c8f"
)
WRAPPED_KEY = (
    "0206072615bf59e7ee82623b2c664fb5d0e24de174ba15847c50c292aff7648ac16ebc3beeb3f1764591a17ed5b4c0fa"
    "4b3ced748a2929bc9bb834563a3f1aff7507b51e56beb1dbf2"
)
PADDED_FILE_STREAM = (
    "02e9aba8be65f7c9a20ddd074e8fbd2881aa70db07ecc58dcbe30444ad0dc13a292ed22a97631ed98776bf698d698473"
    "4a8d3ceaa7f2ea0ec14cc8094385"
)
SEALED_FILE_KEY = (
    "0289c99ff1ce698a7d9f54b28a8c89aef55e96bf60b77f2bbf92c263ba37b1910c8ffb9a0b0405e8123ccc723cebb78f"
    "3f8735814d367384b0cc780bf3f8678500f6650029b9a40142aa94a4baf527bf20775a5a5e8306cfe38d68de9af780c4"
    "162240a36d673bc449f3dc5bc90423be67b2b2cc3b42335a4f4e2b40050c646958e3151ce9ad5c7d300a6cacdb5e30eb"
    "d4b10805ea2f991d0fadc054776fea2d91117b9f622d2debd6c94b30ec119248c7b3ce0a8c0d3789e659a5c1ab181aa7"
    "60458c25539337870d6217a3a5fd3adae5b1103e9b75d89cacfa4717cd72ef53f5f4c093d01df7f5a3038320058b5dbb"
    "4fdbab1b2250ee1b37c6ab560fc0a621589d82ee413cfe3979aa82a824d6d81d4a23afbfd77eb2cbe932c576a4d1c2d3"
    "95fce26a09e8295cfc"
)
FILE_STREAM = (
    "0282beb679e55b5b8e797633e83d44f096aa3addaa9ef6ed2a545b16692ee861bae6e29313479f21d35a6884e00303bb"
    "7d1a52dbfc3ade10e5051f0417bd"
)
RECOVERY_KEY = "JTBS-H6CT-KEE9-V7MZ-M2GT-58X4-MPKA-FA59-NANT-SBDE-NYRB-3CNK-PJTG"
KEY_FILE = (
    '{"format":"meldkluis-private-key","version":2,"public_key":"eaYx7t4b+cmPEgMs3q3Q56B5OY/HhriMyEbs'
    'ia+FpRo=","wrapped":"Ah0mGArqygt9xgeUuySarqhsSkwRE9nmKdQIeNXDw9lNIVMohjO56h8fQe6F8oGxp/a+DhS/rOC'
    '58u06AWt3rJd5Cp0FDyFP+g=="}'
)
BUNDLE = (
    '{"format":"meldkluis-bundle","version":2,"case_id":"case-0001","sealed_case_key":"Ari+/vmfPECs7v'
    'fP5Kd04MwOiQ2c/yF9yeQZJ3r58uEEEfLCJU0B9fSaG/uT/6sLuOAc79iWYmmygqSYHzr3gNEBHfm5oFVisAsEDSud8JrbGk'
    'kzgGuGJL7bE6Xi","texts":[{"kind":"message","row_id":"row-1","meta":{"author_kind":"handler","mes'
    'sage_kind":"acknowledgement","position":3,"message_id":""},"sealed":"AmT1hgGUMjRlfVj4vmB+PYNZXin'
    'SWKpqSKBU9C6iSCptgZTQ/OmqIx65gvkJNAfVI6Jv+jdeX7CNes92BTm434iV5mSaAJFiX/RZiqSaRDDvEEoC3MZzi2oJfbr'
    'Ob+XaInXhVlV3f15cUB/YN6QS4ItFiUz7TKX2UOIHVYFhEYnD9dkYmvD/sFwtVP7SZGrNQyZI79DjuXJWgigkEQAw0yw0HX9'
    '3Y4RefiVu1ydjTFp8EA9TUkBl8Qs0ieFRwETF7+L1lp7f7iqBuNMfyXujqnJjzwGUJO4LS8PREgF/VewiPdhKNVP3lm1glE2'
    'c4oU21KGgbFMuMC6mDbJSqIttgqeNb7D4itlmdkzNEw+jw6MTnEdU2RD8l978CoIKNVjHQ/AeuqJeDh3z"}],"files":[{"'
    'row_id":"file-1","name_sealed":"AuaS8PHIPgN945WPSIuPVR1SP3VlALF4GOPYgH+7FgHsHzPK88KnBHvZEJ+Gj5HV'
    'qiBdKcxUAVEib8bhLq8C3N5rIy78ELI9SyoS7XvOSSF3eTGnD5Eyj0lzZSEt9e4wS5bqgaftvZOr8auZ5R5zR7L1I3UV8hhf'
    'raVaOaXbCZ84n4IXqVsyqVxUf7eA+mSCRBRSLCRwupPltZzrO1PxfeU7k4vQolwk5GwrLnacUtPgShmAt4/QVReAV8yrJA/m'
    'BqsK13h5tqnjJRuY4eSvpu38funA7YHDdNISbJeIeGk/ew7t0yllYwWy+4oaXjHDhepCFiznLSE0Fy+Tnjg3crvyzEMBPhko'
    '6zLWeO5viclg0ePNE7p5skh1exw7YUC0PP1NhG3X+eu4","file_key_sealed":"AonJn/HOaYp9n1SyioyJrvVelr9gt38'
    'rv5LCY7o3sZEMj/uaCwQF6BI8zHI867ePP4c1gU02c4SwzHgL8/hnhQD2ZQApuaQBQqqUpLr1J78gd1paXoMGz+ONaN6a94D'
    'EFiJAo21nO8RJ89xbyQQjvmeyssw7QjNaT04rQAUMZGlY4xUc6a1cfTAKbKzbXjDr1LEIBeovmR0PrcBUd2/qLZERe59iLS3'
    'r1slLMOwRkkjHs84KjA03ieZZpcGrGBqnYEWMJVOTN4cNYhejpf062uWxED6bddicrPpHF81y71P19MCT0B339aMDgyAFi12'
    '7T9urGyJQ7hs3xqtWD8CmIVidgu5BPP45eaqCqCTW2B1KI6+/136yy+kyxXak0cLTlfziagnoKVz8","binding":"Y2FzZS'
    '0wMDAxL2ZpbGUtMQ==","data":"AumrqL5l98miDd0HTo+9KIGqcNsH7MWNy+MERK0NwTopLtIql2Me2Yd2v2mNaYRzSo08'
    '6qfy6g7BTMgJQ4U=","meta":{"author_kind":"reporter","message_kind":"","position":0,"message_id":"'
    'row-1"}}]}'
)


def _argon2id(secret: bytes, hash_len: int) -> bytes:
    # TEST_KDF in argon2-cffi's units: memory_cost is in KiB (8 KiB = 8192 bytes).
    return argon2.low_level.hash_secret_raw(
        secret,
        SALT,
        time_cost=1,
        memory_cost=8,
        parallelism=1,
        hash_len=hash_len,
        type=argon2.low_level.Type.ID,
    )


def test_reporter_keys_are_pinned() -> None:
    keys = derive_reporter_keys(PASSPHRASE, MAILBOX_SALT)
    assert keys.private.hex() == REPORTER_PRIVATE
    assert keys.public.hex() == REPORTER_PUBLIC
    assert keys.auth_key.hex() == REPORTER_AUTH_KEY


def test_reporter_keys_match_an_independent_construction() -> None:
    # hashlib, not libsodium: the derivation is BLAKE2b-256 keyed by the salt, one personalisation per key.
    normalized = b"zebra acorn drop down yo yo cubicle"
    private = hashlib.blake2b(normalized, key=MAILBOX_SALT, person=b"meldkluis-x25519", digest_size=32).digest()
    auth_key = hashlib.blake2b(normalized, key=MAILBOX_SALT, person=b"meldkluis-auth", digest_size=32).digest()
    assert private.hex() == REPORTER_PRIVATE
    assert auth_key.hex() == REPORTER_AUTH_KEY


def test_password_key_is_pinned_and_is_plain_argon2id() -> None:
    assert derive_password_key(PASSWORD, SALT, TEST_KDF).hex() == PASSWORD_KEY
    assert _argon2id(PASSWORD.encode(), hash_len=32).hex() == PASSWORD_KEY


def test_receipt_lookup_hash_is_pinned() -> None:
    assert receipt_lookup_hash(RECEIPT_CODE, LOOKUP_KEY).hex() == RECEIPT_HASH
    assert hashlib.blake2b(b"K7QX3M9PABCDEFGH", key=LOOKUP_KEY, digest_size=32).hexdigest() == RECEIPT_HASH


def test_auth_key_digest_is_pinned() -> None:
    assert auth_key_digest(bytes(range(32))).hex() == AUTH_DIGEST
    independent = hashlib.blake2b(bytes(range(32)), key=b"meldkluis/reporter/auth-digest", digest_size=32)
    assert independent.hexdigest() == AUTH_DIGEST


@pytest.mark.parametrize(
    ("length", "padded"),
    [
        (0, 256),
        (1, 256),
        (255, 256),
        (256, 512),
        (511, 512),
        (512, 1024),
        (4095, 4096),
        (32768, 65536),
        (65535, 65536),
        (65536, 131072),
        (131071, 131072),
        (131072, 196608),
        (1_000_000, 1_048_576),
    ],
)
def test_padded_length_table(length: int, padded: int) -> None:
    assert padded_length(length) == padded


def test_handler_public_key_is_pinned() -> None:
    assert public_key_of(HANDLER_PRIVATE).hex() == HANDLER_PUBLIC


def test_pinned_sealed_text_still_opens() -> None:
    sealed = bytes.fromhex(SEALED_TEXT)
    place = {"case_id": "case-0001", "kind": "message", "row_id": "row-1"}
    assert open_text(CASE_KEY, sealed, **place, meta=TEXT_META) == TEXT_PLAINTEXT


def test_associated_data_of_a_text_is_pinned() -> None:
    # Rebuilt by hand: version 2, the label, then each field with a 2-byte length, position as decimal text.
    fields = [b"case-0001", b"message", b"row-1", b"handler", b"acknowledgement", b"3", b""]
    ad = b"\x02meldkluis/text" + b"".join(len(f).to_bytes(2, "big") + f for f in fields)
    sealed = bytes.fromhex(SEALED_TEXT)
    padded = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[25:], ad, sealed[1:25], CASE_KEY)
    assert nacl.bindings.sodium_unpad(padded, len(padded)).decode() == TEXT_PLAINTEXT


def test_pinned_sealed_file_key_and_padded_stream_still_open() -> None:
    file_key = open_file_key(CASE_KEY, bytes.fromhex(SEALED_FILE_KEY), case_id="case-0001", row_id="file-1",
                             meta=FILE_META)
    assert file_key == (FILE_KEY, len(FILE_PLAINTEXT))
    stream = bytes.fromhex(PADDED_FILE_STREAM)
    assert len(stream) == 1 + 24 + padme(len(FILE_PLAINTEXT)) + 17
    out = io.BytesIO()
    decrypt_file(io.BytesIO(stream), out, FILE_KEY, FILE_BINDING, file_key.size)
    assert out.getvalue() == FILE_PLAINTEXT


@pytest.mark.parametrize(
    ("length", "padded"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (9, 10), (20, 20), (100, 104), (1000, 1024), (1001, 1024), (1025, 1088),
     (65536, 65536), (1_000_000, 1_015_808), (2**30, 2**30), (2**30 + 1, 2**30 + 2**25)],
)
def test_padme_table(length: int, padded: int) -> None:
    assert padme(length) == padded


def test_pinned_sealed_case_key_still_opens() -> None:
    assert open_case_key(bytes.fromhex(SEALED_CASE_KEY), HANDLER_PRIVATE, "case-0001") == CASE_KEY


def test_pinned_wrapped_private_key_still_opens() -> None:
    assert unwrap_private_key(bytes.fromhex(WRAPPED_KEY), WRAPPING_KEY, "password") == HANDLER_PRIVATE


def test_pinned_file_stream_still_opens() -> None:
    out = io.BytesIO()
    size = decrypt_file(io.BytesIO(bytes.fromhex(FILE_STREAM)), out, FILE_KEY, FILE_BINDING)
    assert out.getvalue() == FILE_PLAINTEXT
    assert size == len(FILE_PLAINTEXT)


def test_pinned_recovery_key_decodes() -> None:
    assert recovery_key_to_bytes(RECOVERY_KEY) == bytes(range(150, 182))


def test_pinned_key_file_and_bundle_still_open() -> None:
    private_key = load_private_key_file(KEY_FILE.encode(), RECOVERY_KEY)
    assert private_key == HANDLER_PRIVATE
    case = open_bundle(BUNDLE.encode(), private_key)
    assert case.case_id == "case-0001"
    assert case.texts == [("message", "row-1", TEXT_PLAINTEXT, TEXT_META, "", "")]  # no plain day or author
    assert case.files == [("file-1", "verslag.pdf", FILE_PLAINTEXT, FILE_META, "")]
