"""Case keys sealed to participants, and texts sealed under a case key, bound to their place."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crypto import (
    FORMAT_VERSION,
    NO_META,
    DecryptionError,
    Meta,
    generate_keypair,
    new_case_key,
    open_bytes,
    open_case_key,
    open_text,
    padded_length,
    seal_bytes,
    seal_case_key,
    seal_text,
)

PROPERTY = settings(max_examples=60, deadline=None, database=None)
KEY = st.binary(min_size=32, max_size=32)
FIELD = st.text(max_size=24)
PLACE = st.fixed_dictionaries({"case_id": FIELD, "kind": FIELD, "row_id": FIELD})
HANDLER = generate_keypair()
OTHER_HANDLER = generate_keypair()


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- case keys ---------------------------------------------------------------------------------------------


@PROPERTY
@given(case_key=KEY, case_id=st.text(max_size=64))
def test_case_key_round_trip(case_key: bytes, case_id: str) -> None:
    sealed = seal_case_key(case_key, HANDLER.public, case_id)
    assert sealed[0] == FORMAT_VERSION
    assert case_key not in sealed
    assert open_case_key(sealed, HANDLER.private, case_id) == case_key


def test_case_key_is_random_and_sealing_is_randomized() -> None:
    case_key = new_case_key()
    assert len(case_key) == 32 and case_key != new_case_key()
    assert seal_case_key(case_key, HANDLER.public, "c") != seal_case_key(case_key, HANDLER.public, "c")


@PROPERTY
@given(case_id=st.text(max_size=16), other_case=st.text(max_size=16), data=st.data())
def test_sealed_case_key_fails_closed(case_id: str, other_case: str, data: st.DataObject) -> None:
    sealed = seal_case_key(new_case_key(), HANDLER.public, case_id)
    bit = data.draw(st.integers(0, len(sealed) * 8 - 1), label="bit")
    cut = data.draw(st.integers(0, len(sealed) - 1), label="cut")
    with pytest.raises(DecryptionError):
        open_case_key(flip(sealed, bit), HANDLER.private, case_id)
    with pytest.raises(DecryptionError):
        open_case_key(sealed[:cut], HANDLER.private, case_id)
    with pytest.raises(DecryptionError):
        open_case_key(sealed, OTHER_HANDLER.private, case_id)
    if other_case != case_id:
        with pytest.raises(DecryptionError):
            open_case_key(sealed, HANDLER.private, other_case)


def test_sealed_case_key_rejects_other_version_and_bad_key() -> None:
    sealed = seal_case_key(new_case_key(), HANDLER.public, "case")
    with pytest.raises(DecryptionError):
        open_case_key(b"\x01" + sealed[1:], HANDLER.private, "case")
    with pytest.raises(DecryptionError):
        open_case_key(sealed, HANDLER.private[:31], "case")
    with pytest.raises(ValueError):
        seal_case_key(bytes(16), HANDLER.public, "case")


def test_adding_a_participant_reseals_the_same_key() -> None:
    case_key = new_case_key()
    mine = seal_case_key(case_key, HANDLER.public, "case")
    theirs = seal_case_key(open_case_key(mine, HANDLER.private, "case"), OTHER_HANDLER.public, "case")
    assert open_case_key(theirs, OTHER_HANDLER.private, "case") == case_key


# --- texts and bytes ---------------------------------------------------------------------------------------


@PROPERTY
@given(case_key=KEY, text=st.text(max_size=2000), place=PLACE)
def test_text_round_trip(case_key: bytes, text: str, place: dict[str, str]) -> None:
    sealed = seal_text(case_key, text, **place)
    assert sealed[0] == FORMAT_VERSION
    assert open_text(case_key, sealed, **place) == text


@PROPERTY
@given(case_key=KEY, data=st.binary(max_size=5000), place=PLACE)
def test_bytes_round_trip_and_length_leaks_only_the_bucket(
    case_key: bytes, data: bytes, place: dict[str, str]
) -> None:
    sealed = seal_bytes(case_key, data, **place)
    assert open_bytes(case_key, sealed, **place) == data
    assert len(sealed) == 1 + 24 + padded_length(len(data)) + 16


def test_large_payload_round_trip() -> None:
    case_key, data = new_case_key(), bytes(range(256)) * 600  # 153,600 bytes, past the 64 KiB buckets
    sealed = seal_bytes(case_key, data, case_id="c", kind="blob", row_id="r")
    assert len(sealed) == 1 + 24 + 3 * 65536 + 16
    assert open_bytes(case_key, sealed, case_id="c", kind="blob", row_id="r") == data


def test_same_length_texts_give_same_length_ciphertexts() -> None:
    case_key = new_case_key()
    short = seal_text(case_key, "ja", case_id="c", kind="message", row_id="1")
    longer = seal_text(case_key, "x" * 200, case_id="c", kind="message", row_id="1")
    assert len(short) == len(longer)


@PROPERTY
@given(case_key=KEY, text=st.text(max_size=300), place=PLACE, data=st.data())
def test_sealed_text_fails_closed(
    case_key: bytes, text: str, place: dict[str, str], data: st.DataObject
) -> None:
    sealed = seal_text(case_key, text, **place)
    bit = data.draw(st.integers(0, len(sealed) * 8 - 1), label="bit")
    cut = data.draw(st.integers(0, len(sealed) - 1), label="cut")
    with pytest.raises(DecryptionError):
        open_text(case_key, flip(sealed, bit), **place)
    with pytest.raises(DecryptionError):
        open_text(case_key, sealed[:cut], **place)
    with pytest.raises(DecryptionError):
        open_text(case_key, sealed + b"\x00", **place)
    other_key = data.draw(KEY, label="other_key")
    if other_key != case_key:
        with pytest.raises(DecryptionError):
            open_text(other_key, sealed, **place)


@PROPERTY
@given(case_key=KEY, place=PLACE, other=PLACE)
def test_sealed_text_cannot_be_moved(case_key: bytes, place: dict[str, str], other: dict[str, str]) -> None:
    assume(other != place)
    sealed = seal_text(case_key, "de manager fraudeert", **place)
    with pytest.raises(DecryptionError):
        open_text(case_key, sealed, **other)


@pytest.mark.parametrize(
    "other",
    [
        {"case_id": "case-2", "kind": "report", "row_id": "row-1"},
        {"case_id": "case-1", "kind": "note", "row_id": "row-1"},
        {"case_id": "case-1", "kind": "report", "row_id": "row-2"},
        # Shifting bytes between fields must not give the same associated data.
        {"case_id": "case-1r", "kind": "eport", "row_id": "row-1"},
        {"case_id": "case-1", "kind": "reportrow-1", "row_id": ""},
    ],
)
def test_each_field_of_the_place_is_bound(other: dict[str, str]) -> None:
    case_key = new_case_key()
    sealed = seal_text(case_key, "tekst", case_id="case-1", kind="report", row_id="row-1")
    with pytest.raises(DecryptionError):
        open_text(case_key, sealed, **other)


def test_invalid_utf8_inside_is_a_decryption_error() -> None:
    case_key = new_case_key()
    sealed = seal_bytes(case_key, b"\xff\xfe", case_id="c", kind="k", row_id="r")
    with pytest.raises(DecryptionError) as caught:
        open_text(case_key, sealed, case_id="c", kind="k", row_id="r")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_seal_rejects_bad_key_and_oversized_fields() -> None:
    with pytest.raises(ValueError):
        seal_text(bytes(31), "x", case_id="c", kind="k", row_id="r")
    with pytest.raises(ValueError):
        seal_text(bytes(32), "x", case_id="c" * 70000, kind="k", row_id="r")


def test_open_rejects_other_version() -> None:
    case_key = new_case_key()
    sealed = seal_text(case_key, "x", case_id="c", kind="k", row_id="r")
    for version in (0, 1, FORMAT_VERSION + 1, 255):
        with pytest.raises(DecryptionError):
            open_text(case_key, bytes([version]) + sealed[1:], case_id="c", kind="k", row_id="r")
    with pytest.raises(DecryptionError):
        open_text(case_key, b"", case_id="c", kind="k", row_id="r")


@given(st.integers(0, 10_000_000))
@settings(max_examples=300, database=None)
def test_padded_length_is_a_bucket(n: int) -> None:
    padded = padded_length(n)
    assert padded > n
    if padded <= 65536:
        assert padded >= 256 and padded & (padded - 1) == 0
        assert padded == 256 or padded // 2 <= n
    else:
        assert padded % 65536 == 0 and padded - 65536 <= n


def test_padded_length_rejects_negative() -> None:
    with pytest.raises(ValueError):
        padded_length(-1)


@pytest.mark.parametrize(
    "changed",
    [
        Meta("reporter", "message", 2, ""),  # author kind
        Meta("handler", "acknowledgement", 2, ""),  # message kind
        Meta("handler", "message", 3, ""),  # thread position
        Meta("handler", "message", 2, "m-9"),  # the message a file belongs to
        NO_META,
    ],
)
def test_relabelled_metadata_does_not_open(changed: Meta) -> None:
    case_key, meta = new_case_key(), Meta("handler", "message", 2, "")
    sealed = seal_text(case_key, "we close the case", case_id="c", kind="message", row_id="m-1", meta=meta)
    assert open_text(case_key, sealed, case_id="c", kind="message", row_id="m-1", meta=meta) == "we close the case"
    with pytest.raises(DecryptionError):
        open_text(case_key, sealed, case_id="c", kind="message", row_id="m-1", meta=changed)
