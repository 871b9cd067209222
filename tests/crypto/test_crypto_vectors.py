"""Known-answer vectors, pinned once: a change to any format or derivation must fail here, not in production.

The deterministic parts (KDFs, hashes, padding) are pinned to their outputs and, where an independent
implementation is at hand (argon2-cffi, hashlib), also checked against it. The randomized formats are pinned
as one ciphertext made with an earlier build that must still open to the pinned plaintext: if one of these
tests fails, old cases would no longer open. Add a new FORMAT_VERSION instead of changing a vector.
"""

import hashlib
import io

import argon2.low_level
import pytest

from crypto import (
    TEST_KDF,
    auth_key_digest,
    decrypt_file,
    derive_password_key,
    derive_reporter_keys,
    load_private_key_file,
    open_bundle,
    open_case_key,
    open_text,
    padded_length,
    public_key_of,
    receipt_lookup_hash,
    recovery_key_to_bytes,
    unwrap_private_key,
)

SALT = bytes(range(16))
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

REPORTER_PRIVATE = "df2546b5591364ffffdad4b3cf387778b35369c954218aaa0b784f72f245f0ff"
REPORTER_PUBLIC = "f8f1a23a1684ab186b7a506be0d2d5849c244574a913393844bc57bd397a0d17"
REPORTER_AUTH_KEY = "57d196814cdc6c2c5d7efc9dd4ac92b142f9960ce7d390f046537a583668debb"
PASSWORD_KEY = "6a64398fad258f4cf97eadf4969953f8cf9e3181e945407c847610c180c9d477"
RECEIPT_HASH = "6c9b8ad4aa7c50b96d902179f072a0b17558d219866a435e1f4e853f24d714b0"
AUTH_DIGEST = "e36dea201fdd72f404695c567420fb70c8dd7b874a6981eba026914b7d0c9deb"
HANDLER_PUBLIC = "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
SEALED_TEXT = (
    "019226d0c11a7fb663568079e4514c1e1db721db9470221eef60f7081350512a1b4efed844bcda838d46775101dd281f"
    "a0869b1ac4afe21d5524d1c7979b76d63cd1ef32202d6b61c8bc4003c9a0cea735ef4c918306dd38746003a016b6e3a3"
    "94f9c3cec50814485f68d9ca633ff14bb252fdf678af65d756b72bae63d13596fc51d2b5e1df595042a6c2fac081f142"
    "7b393307cc8145503346b71d1c3c39cab0b2b4a7a64ecfdc0501e754e046d83c3201eac0e722a27d892a9366c50c543f"
    "fd7ce72d5fcb86531fbe6692ad0a83956dae6fca8c1c3ef11d72ab5b8b90a7421deb91ebe99fa63e14fe77e9b06b21e2"
    "1b128fc7061b828603435ad742c473991c05ea6c3458de4e693d822d769f0b0399b371ff5e3d7ca4850604926b789576"
    "8fefb0b6c1b3927212"
)
SEALED_CASE_KEY = (
    "012f38cc0d0412fcaf6483d6564b6d8a87b9b2d794084b837830611b1d962d6e006b28083a9e195c40cf8cafc8816499"
    "ef5b3f7acddb27a3e8faaca5e107fcbe9678850057f6926a66348636128cc0d4912b08b77a90822a58658fa0f3"
)
WRAPPED_KEY = (
    "0149853bb77b3a79fc7fc4ea7163a1d713379663a04f9f3b944d3dfd730fca2d663356ce9820237202ed2a0c40493ea5"
    "e2184cad951971f4b4afb07abf4031f76369ea759ec47de20a"
)
FILE_STREAM = (
    "0112d55e214ade418e3e617137811fe0818b7a7f3a0a30872c4a88c398e91d6209e9d0d0dc1aebf9e28efa3327ca26c9"
    "9ecebbe2e0600a205dc0459c3309"
)
RECOVERY_KEY = "JTBS-H6CT-KEE9-V7MZ-M2GT-58X4-MPKA-FA59-NANT-SBDE-NYRB-3CNK-PJTG"
KEY_FILE = (
    '{"format":"meldkluis-private-key","version":1,"public_key":"eaYx7t4b+cmPEgMs3q3Q56B5OY/'
    'HhriMyEbsia+FpRo=","wrapped":"AU060s3gfbzVUH8+bupGvEv6Pj0bdC9YLDk9WPer/fdv6ZV538eWdGleGpVMNg'
    'Z7Nea/hD6Dp6ga2RyLka/EpbNaVJ05D1h8sQ=="}'
)
BUNDLE = (
    '{"format":"meldkluis-bundle","version":1,"case_id":"case-0001","sealed_case_key":"A'
    "S84zA0EEvyvZIPWVkttioe5steUCEuDeDBhGx2WLW4AaygIOp4ZXEDPjK/IgWSZ71s/es3bJ6Po+qyl4Qf8vpZ4hQBX9pJqZ"
    'jSGNhKMwNSRKwi3epCCKlhlj6Dz","texts":[{"kind":"report","row_id":"row-1","sealed":"'
    "AZIm0MEaf7ZjVoB55FFMHh23IduUcCIe72D3CBNQUSobTv7YRLzag41Gd1EB3SgfoIabGsSv4h1VJNHHl5t21jzR7zIgLWth"
    "yLxAA8mgzqc170yRgwbdOHRgA6AWtuOjlPnDzsUIFEhfaNnKYz/xS7JS/fZ4r2XXVrcrrmPRNZb8UdK14d9ZUEKmwvrAgfFC"
    "ezkzB8yBRVAzRrcdHDw5yrCytKemTs/cBQHnVOBG2DwyAerA5yKifYkqk2bFDFQ//XznLV/LhlMfvmaSrQqDlW2ub8qMHD7x"
    "HXKrW4uQp0Id65Hr6Z+mPhT+d+mwayHiGxKPxwYbgoYDQ1rXQsRzmRwF6mw0WN5OaT2CLXafCwOZs3H/Xj18pIUGBJJreJV2"
    'j++wtsGzknIS"}],"files":[{"row_id":"file-1","name_sealed":"AdHqP3CKiMwMD8gMP8XZQQZiF72'
    "Mclle1nzg08VolkfDwTq/hpfW4BIgE3JAue1ZpocjLdP5sA4TJQU9u7QVhqPjsIDQqPs9lugTQeDpHwEP3kZ1wOiCxR/lGDz"
    "zeDyKXEeQ0toq4M4UwYgOBtUqMjbwOR6BSzzS9kORLdU0XmgaxnEe5hGpwOIV+WMRnhCU4gM4xgzVA8HHvqO8oADWDdFFklj"
    "bOwOyPDnA3LzGpZpxYOrEiO/J2IxjCAJQbwE62ltj2JIVZ+qaYCPIQhxsI4EvFcQbV3pnqKm8pnsuTd08I4J66BxN9AbVnKp"
    'GRR5GlJiw2PDcu1kEcIp4LeQuNlgtiuU/ZMfEfzOgPS8OARRQrsUN/ITRKY55YF1EBkQQPj0ajWTPNzfj","file_key_s'
    'ealed":"AVyMlEeu9gxZuzmPmmwXtD3qPfX7QYnX7BA/T+y6belO+/Kzbxm90QtdmKLH3/sfF4PcyEIDBc7fAtMG9j2++y'
    "Ol0P9tGukmC5diUb1G5jsRzSq2wzJmLup298iouXUiqYwcxAXyk6VWzUlRRQ+M040/DorCrOoz1I/NLekpTy+nCxwZbQADYP"
    "gbE1mqk1T92gMi+pXWi8dlIvcF3xVqA6frLDLHDc5B9+Xd54HmF7vgnYzl2f3d8gQtvBa7e3Zq9WztlhuG4f4PraNciZJlsX"
    "O5yAHGBKeGBxIa0st7AsBzpeinuCXS2gGj/OLbrrNxO/qhMIdhASowOcXvS5RVe52rAzm1gR1rHlck2l5eqIfogLypoZuNyw"
    'Nkj/XheFRaW+4BVACaQU2J","binding":"Y2FzZS0wMDAxL2ZpbGUtMQ==","data":"ARLVXiFK3kGOPmFxN4E'
    'f4IGLen86CjCHLEqIw5jpHWIJ6dDQ3Brr+eKO+jMnyibJns674uBgCiBdwEWcMwk="}]}'
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
    keys = derive_reporter_keys(PASSPHRASE, SALT, TEST_KDF)
    assert keys.private.hex() == REPORTER_PRIVATE
    assert keys.public.hex() == REPORTER_PUBLIC
    assert keys.auth_key.hex() == REPORTER_AUTH_KEY


def test_reporter_keys_match_an_independent_construction() -> None:
    # argon2-cffi and hashlib, not libsodium: the derivation is plain Argon2id + keyed BLAKE2b.
    normalized = b"zebra acorn drop down yo yo cubicle"
    master = _argon2id(normalized, hash_len=64)
    private = hashlib.blake2b(b"meldkluis/reporter/x25519", key=master, digest_size=32).digest()
    auth_key = hashlib.blake2b(b"meldkluis/reporter/auth", key=master, digest_size=32).digest()
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
    assert open_text(CASE_KEY, sealed, case_id="case-0001", kind="report", row_id="row-1") == TEXT_PLAINTEXT


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
    assert case.texts == [("report", "row-1", TEXT_PLAINTEXT)]
    assert case.files == [("file-1", "verslag.pdf", FILE_PLAINTEXT)]
