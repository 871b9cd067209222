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

REPORTER_PRIVATE = "68c965ff9a52f09f8e7132eed7da745b29129f7c234777b81d93c08f21abd865"
REPORTER_PUBLIC = "70531020e1f750112a44ab13f182c19943a404eccc9880f595af51954a872447"
REPORTER_AUTH_KEY = "1a4d42945fb2fe01ef4ddab7ebca164c0ae3362fc46c1170c59ec9dc11143a99"
PASSWORD_KEY = "6a64398fad258f4cf97eadf4969953f8cf9e3181e945407c847610c180c9d477"
RECEIPT_HASH = "6c9b8ad4aa7c50b96d902179f072a0b17558d219866a435e1f4e853f24d714b0"
AUTH_DIGEST = "e36dea201fdd72f404695c567420fb70c8dd7b874a6981eba026914b7d0c9deb"
HANDLER_PUBLIC = "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
SEALED_TEXT = (
    "02a9c595e99811203ce6ff0d29f0aab3d61bd6fa0f1d6321adefbe6041685652ba17eecc6eef1713278774b20eb4005b"
    "e7a3e8d3b46d062816ef64f0dabe03ea2448931f05d935654731c47fdb8d9dcf2a49a1609ff0d61a7ed0b60cbf1e1e43"
    "f769ba21c891a8555f4fd96cd3badf87e2f6371a37151b9efd7390d80c7e8f89170264a97e4fc404f8738ffb36801c44"
    "c3225cee5b426e7c97d992364264101ff6695322bceb40d40050723675b2634f9ce9d53a409161c33807cef392bd606b"
    "882a678b3a3732b18cded739f2d93c784f20656a6c0856ba1a860222be6bf131eb9ef55eeb454b42e9d49e18b0587a67"
    "1160fc91de0a9d195f604545367ecfea40233a89775415021d0dcdb946780ef98ec739bbf4354783d3fb9ae14ea451a5"
    "296a32f33f11d7f1e6"
)
SEALED_CASE_KEY = (
    "0280733e38072552a8a4d85e078d02ce562b95d34aca4fa196fd147ef06625df1239ad5c8e827b2d3721fe593d708e36"
    "36270fabc4b33f7dd41e15a0ffc6ff2b74a58a6a1293a91d089b31e47d13d053cfc21a13d1295e80b1d20f2cd7"
)
WRAPPED_KEY = (
    "0227e33765177aa8f659ecfa0829ad60742c29070d7d382f8d5a7b4eec2361e15a6cb354ff621cb8b68c996dd500df4a"
    "0067d38f439c09bf7b2b7ae2b3ee94275c1e8789117343b2a1"
)
FILE_STREAM = (
    "02f09490d2e783638aafdf16be8bfe9d812acd4e2c634e158583ff088ae5bd4496a41434fbafb90faa9ac4375505b1a8"
    "b48d557495fbe1a42b1170f8626b"
)
RECOVERY_KEY = "JTBS-H6CT-KEE9-V7MZ-M2GT-58X4-MPKA-FA59-NANT-SBDE-NYRB-3CNK-PJTG"
KEY_FILE = (
    '{"format":"meldkluis-private-key","version":2,"public_key":"eaYx7t4b+cmPEgMs3q3Q56B5OY/HhriMyEbs'
    'ia+FpRo=","wrapped":"Aosrwp3mgXP3hk7/EDk4vIdRK48q1VAUun6Uhb6zdyWvbdgctycfKBTqtq7TNFb9YiNoZbg+Z/5'
    'mNQrzN6wvfTJdg+M42xcUYg=="}'
)
BUNDLE = (
    '{"format":"meldkluis-bundle","version":2,"case_id":"case-0001","sealed_case_key":"AjKztyiXhCOwQG'
    '+xxeC6Yz+w21bMWtUY6H1CObasAu4RvfNZAy1swxNwgGl3kIAnrOc2hr0Rlq9zQV7t5/T17nNb87Iu0XV8xttpsYVYGYRWNU'
    'JX2u9IUkLMhJCc","texts":[{"kind":"report","row_id":"row-1","sealed":"AnM1P7SrwTCSgy/a0SH+IbSh+P1'
    'qDApjQctJFliYO1OZfbQ0JaMwK0SQZjyIa1yqwLQgkVMioc4nsA0U7fFpCamZdTMdSzQBSMWtUdx2NsG8RKplT0mV4ig3XQ3'
    'UXb572skCOVig6etzcNenP8dgEUWahtna+Mz7CW6Ml36buJTJ1el/cpmcohjZ3AvVkvtH6aZPiLTmZjMSL7USDun9Ervk4SU'
    'NOyWPaEJEs31hvTiI5hXYpOxrKvZBOk+8lqhJltOzd0oCZmRaGRqplXK8h20TjuaGDjb5N3cVOM8xGyACF0efi2A+6jh5FhA'
    '2RGBsa1Vt9HeT+Ny5+ieBbUMhVs6nYQKExUeqnaYqJL3LRoy2/l0TPWcTkpOR4UybJVVUKuUdsLXAKH0B"}],"files":[{"'
    'row_id":"file-1","name_sealed":"AjbaGauF/rkhzRvE50jAp84hX6UkReROrXw+yoLtJbt5//sR1Hspv+VA680yO3Yb'
    'EjKu/eqkoAO2iw6/i2JFVxlngluctTLk62Ssl15yoFHPutsB/nHGDqdCm6izJt9tZdx/D1bHjYWPiWQwAk7dyLdqd5k2outA'
    'CuOaREAb2EpnFaPMx9N3mKIbWeD4vwfTc/83FbVKQp+XAdOxh846YaYVnPOuHSD9yb+W6UuZa3oJbHdgrfQElGE4FqI/b5uP'
    'FJXzOpDizkTq+wCr6vauAeaFOAuPFRDdGTF538wjBQgcqhH0YoVNsD+0qSEt237fan4KJ+T2YIetJ20Bqz2a7e6Gx8Bw1RmN'
    'BaXAMTwGjLUKWm9AbhS49oLOq3GPOSfWq6+6REpGwvAZ","file_key_sealed":"Am9XPbZrxX8PcuyHGnC5uCh4la7ju3c'
    'EHXd9boXBV94e4zlXbLtEk39Y/GRTEgqjFaLq1AvQb0oyOicxo533A1RX6vnTpHURgOw+gk0jF3b59iCM6kAumtGpyJMhSnI'
    'h2KQXnHcOLL86XmYcaADGyZsAiuh1GW+GtCpyMDvX81CuaRywcp7A92oKNoA4v7M8CIaBMvZPB7sgIHRrQfkdNyX03K5vnqD'
    'GsaeV9Nt2cYbfTOXuxRAbaJ6WVrzgBvHDIgEx2ekjKxcQgVhQH3hOa3TC20wMBL4Ozg94gTsg4oD4T5CFmnjdYiOeEaS5w/o'
    'otMTOa8rxBkmCATQjLc47pEZGCgLftluM1kazOw5YoRzUpTb03WoR7kBIMCnRCiAN1EKQKdjEm6DC","binding":"Y2FzZS'
    '0wMDAxL2ZpbGUtMQ==","data":"AvCUkNLng2OKr98Wvov+nYEqzU4sY04VhYP/CIrlvUSWpBQ0+6+5D6qaxDdVBbGotI1V'
    'dJX74aQrEXD4Yms="}]}'
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
