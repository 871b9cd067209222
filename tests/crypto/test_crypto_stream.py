"""Attachments: secretstream in 64 KiB chunks; truncation, reordering and trailing data are all rejected."""

import io
import os
from collections.abc import Iterator

import nacl.bindings as sodium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CHUNK_SIZE,
    FORMAT_VERSION,
    DecryptionError,
    FileEncryptor,
    ciphertext_size,
    decrypt_file,
    encrypt_file,
    iter_decrypted_file,
    new_file_key,
    padme,
)

PROPERTY = settings(max_examples=40, deadline=None, database=None)
BINDING = b"case-1/attachment-7"
PREFIX = 1 + 24  # version byte, secretstream header
FRAME = CHUNK_SIZE + 17  # one full chunk's ciphertext
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE, 3 * CHUNK_SIZE + 1]


def encrypt(plaintext: bytes, key: bytes, binding: bytes = BINDING) -> bytes:
    sink = io.BytesIO()
    assert encrypt_file(io.BytesIO(plaintext), sink, key, binding) == len(plaintext)
    return sink.getvalue()


def decrypt(ciphertext: bytes, key: bytes, binding: bytes = BINDING) -> bytes:
    sink = io.BytesIO()
    size = decrypt_file(io.BytesIO(ciphertext), sink, key, binding)
    assert size == len(sink.getvalue())
    return sink.getvalue()


def frames(ciphertext: bytes) -> list[bytes]:
    body = ciphertext[PREFIX:]
    return [body[i : i + FRAME] for i in range(0, len(body), FRAME)]


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


class Trickle(io.RawIOBase):
    """A source whose read() returns a few bytes at a time, like a pipe or a socket."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data, self._pos, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "bytearray | memoryview") -> int:  # type: ignore[override]
        n = min(len(buffer), self._step, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_at_chunk_edges(size: int) -> None:
    key, plaintext = new_file_key(), os.urandom(size)
    ciphertext = encrypt(plaintext, key)
    assert ciphertext[0] == FORMAT_VERSION
    assert len(ciphertext) == ciphertext_size(size)
    assert len(frames(ciphertext)) == size // CHUNK_SIZE + 1  # always a final chunk, perhaps empty
    assert decrypt(ciphertext, key) == plaintext


@PROPERTY
@given(size=st.integers(0, 3 * CHUNK_SIZE + 100), binding=st.binary(max_size=64))
def test_round_trip_any_size_and_binding(size: int, binding: bytes) -> None:
    key, plaintext = new_file_key(), os.urandom(size)
    ciphertext = encrypt(plaintext, key, binding)
    assert len(ciphertext) == ciphertext_size(size)
    assert decrypt(ciphertext, key, binding) == plaintext


def test_iterator_yields_verified_chunks() -> None:
    key, plaintext = new_file_key(), os.urandom(2 * CHUNK_SIZE + 10)
    chunks = list(iter_decrypted_file(io.BytesIO(encrypt(plaintext, key)), key, BINDING))
    assert [len(c) for c in chunks] == [CHUNK_SIZE, CHUNK_SIZE, 10]
    assert b"".join(chunks) == plaintext


@pytest.mark.parametrize("size", [CHUNK_SIZE, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 5])
def test_file_cut_at_a_chunk_boundary_is_rejected(size: int) -> None:
    # The attack that a reader without a TAG_FINAL check misses: drop whole trailing chunks.
    key = new_file_key()
    ciphertext = encrypt(os.urandom(size), key)
    parts = frames(ciphertext)
    for keep in range(len(parts)):
        cut = ciphertext[:PREFIX] + b"".join(parts[:keep])
        received = []
        with pytest.raises(DecryptionError, match="final"):
            for chunk in iter_decrypted_file(io.BytesIO(cut), key, BINDING):
                received.append(chunk)
        assert len(received) == keep  # what came before the cut was yielded: callers must wait for the end


@PROPERTY
@given(data=st.data())
def test_file_cut_anywhere_is_rejected(data: st.DataObject) -> None:
    key = new_file_key()
    ciphertext = encrypt(os.urandom(data.draw(st.sampled_from(SIZES), label="size")), key)
    cut = data.draw(st.integers(0, len(ciphertext) - 1), label="cut")
    with pytest.raises(DecryptionError):
        decrypt(ciphertext[:cut], key)


@PROPERTY
@given(data=st.data())
def test_any_flipped_bit_is_rejected(data: st.DataObject) -> None:
    key = new_file_key()
    ciphertext = encrypt(os.urandom(data.draw(st.sampled_from([0, 100, CHUNK_SIZE + 1]), label="size")), key)
    bit = data.draw(st.integers(0, len(ciphertext) * 8 - 1), label="bit")
    with pytest.raises(DecryptionError):
        decrypt(flip(ciphertext, bit), key)


def test_reordered_or_repeated_chunks_are_rejected() -> None:
    key = new_file_key()
    ciphertext = encrypt(os.urandom(3 * CHUNK_SIZE + 1), key)
    head, (a, b, c, final) = ciphertext[:PREFIX], frames(ciphertext)
    for body in (b + a + c + final, a + c + b + final, a + a + b + c + final, a + b + c + c + final):
        with pytest.raises(DecryptionError):
            decrypt(head + body, key)


@pytest.mark.parametrize("junk", [b"\x00", b"x" * 17, os.urandom(FRAME)])
def test_trailing_data_is_rejected(junk: bytes) -> None:
    key = new_file_key()
    for size in (0, CHUNK_SIZE, CHUNK_SIZE + 3):
        # Junk after a short final chunk is read as part of it, so authentication fails first.
        with pytest.raises(DecryptionError):
            decrypt(encrypt(os.urandom(size), key) + junk, key)


def test_splicing_two_files_is_rejected() -> None:
    key = new_file_key()
    first, second = encrypt(os.urandom(CHUNK_SIZE + 1), key), encrypt(os.urandom(CHUNK_SIZE + 1), key)
    with pytest.raises(DecryptionError):
        decrypt(first[:PREFIX] + frames(first)[0] + frames(second)[1], key)


def test_wrong_key_binding_or_version_is_rejected() -> None:
    key = new_file_key()
    ciphertext = encrypt(b"secret scan", key)
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, new_file_key())
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, key, b"case-1/attachment-8")
    with pytest.raises(DecryptionError):
        decrypt(b"\x01" + ciphertext[1:], key)
    with pytest.raises(DecryptionError):
        decrypt(ciphertext, key[:16])
    for short in (b"", ciphertext[:1], ciphertext[: PREFIX - 1], ciphertext[:PREFIX]):
        with pytest.raises(DecryptionError):
            decrypt(short, key)


def test_short_reads_from_the_source_are_handled() -> None:
    key, plaintext = new_file_key(), os.urandom(CHUNK_SIZE + 300)
    source = io.BufferedReader(Trickle(encrypt(plaintext, key)), buffer_size=5)
    sink = io.BytesIO()
    decrypt_file(Trickle(encrypt(plaintext, key)), sink, key, BINDING)  # type: ignore[arg-type]
    assert sink.getvalue() == plaintext
    assert b"".join(iter_decrypted_file(source, key, BINDING)) == plaintext


@PROPERTY
@given(writes=st.lists(st.integers(0, 2 * CHUNK_SIZE + 3), max_size=6))
def test_file_encryptor_with_uneven_writes(writes: list[int]) -> None:
    key, plaintext = new_file_key(), os.urandom(sum(writes))
    sink = io.BytesIO()
    encryptor = FileEncryptor(sink, key, BINDING)
    written = 0
    for n in writes:
        encryptor.write(plaintext[written : written + n])
        written += n
        # Bounded memory, seen from outside: every full chunk has already left for the sink.
        assert len(sink.getvalue()) == PREFIX + (written // CHUNK_SIZE) * FRAME
    assert encryptor.close() == len(plaintext)
    assert len(sink.getvalue()) == ciphertext_size(len(plaintext))
    assert decrypt(sink.getvalue(), key) == plaintext


def test_file_encryptor_accepts_memoryview_and_bytearray() -> None:
    key, sink = new_file_key(), io.BytesIO()
    with FileEncryptor(sink, key, BINDING) as encryptor:
        encryptor.write(bytearray(b"abc"))
        encryptor.write(memoryview(b"def"))
    assert decrypt(sink.getvalue(), key) == b"abcdef"


def test_close_is_idempotent_and_final() -> None:
    key, sink = new_file_key(), io.BytesIO()
    encryptor = FileEncryptor(sink, key, BINDING)
    encryptor.write(b"x" * 10)
    assert encryptor.close() == 10
    length = len(sink.getvalue())
    assert encryptor.close() == 10
    assert len(sink.getvalue()) == length
    with pytest.raises(ValueError):
        encryptor.write(b"more")


def test_failed_upload_never_looks_complete() -> None:
    # An exception inside the with-block (e.g. the client disconnects) must not write TAG_FINAL.
    key, sink = new_file_key(), io.BytesIO()
    with pytest.raises(ConnectionError), FileEncryptor(sink, key, BINDING) as encryptor:
        encryptor.write(os.urandom(CHUNK_SIZE + 10))
        raise ConnectionError
    with pytest.raises(DecryptionError, match="final"):
        decrypt(sink.getvalue(), key)
    with pytest.raises(ValueError):
        encryptor.close()


def test_ciphertext_size() -> None:
    assert ciphertext_size(0) == PREFIX + 17
    assert ciphertext_size(CHUNK_SIZE) == PREFIX + FRAME + 17
    with pytest.raises(ValueError):
        ciphertext_size(-1)


def test_file_key_is_random() -> None:
    assert len(new_file_key()) == 32 and new_file_key() != new_file_key()


def test_decrypting_streams_without_reading_everything_first() -> None:
    # The iterator must not read ahead of what it yields (flat memory for large files).
    key = new_file_key()
    ciphertext = encrypt(os.urandom(3 * CHUNK_SIZE + 1), key)
    source = io.BytesIO(ciphertext)
    chunks: Iterator[bytes] = iter_decrypted_file(source, key, BINDING)
    next(chunks)
    assert source.tell() == PREFIX + FRAME


def test_data_after_a_full_size_final_chunk_is_rejected() -> None:
    # FileEncryptor never writes a full-size final chunk, but another writer could: the reader accepts it,
    # and then still refuses anything after it.
    key, ad = new_file_key(), bytes([FORMAT_VERSION]) + b"meldkluis/file" + len(BINDING).to_bytes(2, "big") + BINDING
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    final = sodium.crypto_secretstream_xchacha20poly1305_push(
        state, bytes(CHUNK_SIZE), ad, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
    )
    assert decrypt(bytes([FORMAT_VERSION]) + header + final, key) == bytes(CHUNK_SIZE)
    with pytest.raises(DecryptionError, match="after the final"):
        decrypt(bytes([FORMAT_VERSION]) + header + final + b"\x00", key)


def padded(plaintext: bytes, key: bytes) -> tuple[bytes, int]:
    sink = io.BytesIO()
    encryptor = FileEncryptor(sink, key, BINDING)
    encryptor.write(plaintext)
    real = encryptor.close_padded()
    return sink.getvalue(), real


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 7])
def test_padded_round_trip(size: int) -> None:
    key, plaintext = new_file_key(), os.urandom(size)
    ciphertext, real = padded(plaintext, key)
    assert real == size and len(ciphertext) == ciphertext_size(padme(size))
    sink = io.BytesIO()
    assert decrypt_file(io.BytesIO(ciphertext), sink, key, BINDING, size) == size
    assert sink.getvalue() == plaintext


def test_padded_files_of_1000_and_1001_bytes_have_equal_size() -> None:
    key = new_file_key()
    assert len(padded(bytes(1000), key)[0]) == len(padded(bytes(1001), key)[0])


def test_padded_stream_refuses_another_size() -> None:
    key = new_file_key()
    ciphertext, size = padded(b"x" * 1000, key)
    for claimed in (999, 990, 1025, 0):  # (the size itself is authenticated inside the sealed file key)
        with pytest.raises(DecryptionError):
            decrypt_file(io.BytesIO(ciphertext), io.BytesIO(), key, BINDING, claimed)
