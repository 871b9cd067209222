"""Attachments: secretstream XChaCha20-Poly1305 in fixed chunks, so memory stays flat for any file size.

File format::

    version (1 byte) || secretstream header (24 bytes) || chunk ... chunk

Every chunk but the last holds exactly CHUNK_SIZE plaintext bytes and is tagged TAG_MESSAGE; the last holds
fewer (possibly none) and is tagged TAG_FINAL. Every chunk's associated data is
version || b"meldkluis/file" || length-prefixed binding, where the caller's binding names the attachment.
secretstream numbers its chunks internally, so a reordered, dropped or repeated chunk fails to authenticate;
the reader also insists on TAG_FINAL followed by end of file, so a file cut short, even exactly at a chunk
boundary, is rejected.

Attachments are padded: ``FileEncryptor.close_padded()`` appends zero bytes up to ``padme(size)`` before the
final chunk, so a stored file shows only its Padmé bucket (at most 12% larger; it leaks O(log log n) bits of the
size). The real size travels only inside the sealed file key (``seal_file_key``), and a reader given that size
(``iter_decrypted_file(..., size=n)``) yields exactly n bytes and insists that the rest is zeros up to padme(n).
"""

import secrets
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO, NamedTuple

import nacl.bindings as sodium

from crypto._format import KEY_SIZE, VERSION_BYTE, encode_fields, opening, require_key
from crypto.errors import DecryptionError
from crypto.seal import NO_META, Meta, open_bytes, seal_bytes

CHUNK_SIZE = 64 * 1024
_ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
_HEADERBYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_ZEROS = bytes(CHUNK_SIZE)
FILE_KEY_KIND = "file-key"
_SIZE_BYTES = 8


def new_file_key() -> bytes:
    """A random 32-byte key for one file; it is stored sealed under the case key (seal_bytes)."""
    return secrets.token_bytes(KEY_SIZE)


def padme(length: int) -> int:
    """Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with PURBs",
    2019): the length rounded up so that only its top log2(log2(length)) + 1 bits remain free.

    At most 12% overhead (less for large files), and a padded length leaks O(log log n) bits instead of the
    O(log n) bits of an exact one. 1,000 and 1,001 bytes both become 1,024.
    """
    if length < 0:
        raise ValueError("length must not be negative")
    if length < 2:
        return length
    exponent = length.bit_length() - 1  # floor(log2 length)
    free_bits = exponent - exponent.bit_length()  # exponent - (floor(log2 exponent) + 1)
    mask = (1 << free_bits) - 1
    return (length + mask) & ~mask


class FileKey(NamedTuple):
    """A file's key and its real (unpadded) size, as kept sealed under the case key."""

    key: bytes
    size: int


def seal_file_key(
    case_key: bytes, file_key: bytes, size: int, *, case_id: str, row_id: str, meta: Meta = NO_META
) -> bytes:
    """Seal a file key together with the file's real size: the only place the size is kept."""
    require_key(file_key, "file key")
    if not 0 <= size < 1 << (8 * _SIZE_BYTES):
        raise ValueError("size out of range")
    data = file_key + size.to_bytes(_SIZE_BYTES, "big")
    return seal_bytes(case_key, data, case_id=case_id, kind=FILE_KEY_KIND, row_id=row_id, meta=meta)


def open_file_key(
    case_key: bytes, sealed: bytes, *, case_id: str, row_id: str, meta: Meta = NO_META
) -> FileKey:
    """Inverse of seal_file_key; DecryptionError on a wrong key, another place or meaning, or any change."""
    data = open_bytes(case_key, sealed, case_id=case_id, kind=FILE_KEY_KIND, row_id=row_id, meta=meta)
    if len(data) != KEY_SIZE + _SIZE_BYTES:
        raise DecryptionError("not a sealed file key")
    return FileKey(data[:KEY_SIZE], int.from_bytes(data[KEY_SIZE:], "big"))


def ciphertext_size(plaintext_size: int) -> int:
    """Size of the encrypted stream for ``plaintext_size`` bytes; a padded attachment of n bytes is stored as
    ``ciphertext_size(padme(n))`` (e.g. for a storage quota)."""
    if plaintext_size < 0:
        raise ValueError("size must not be negative")
    chunks = plaintext_size // CHUNK_SIZE + 1  # the final chunk is always there, perhaps empty
    return len(VERSION_BYTE) + _HEADERBYTES + plaintext_size + chunks * _ABYTES


def _chunk_ad(binding: bytes) -> bytes:
    return VERSION_BYTE + b"meldkluis/file" + encode_fields(binding)


class FileEncryptor:
    """Encrypts a file as it arrives, holding at most one chunk of plaintext in memory.

    The upload path writes the request body into it piece by piece. ``close()`` writes the final chunk.
    Used as a context manager, an exception inside the block leaves the file *without* its final chunk, so
    the half-written upload can never be mistaken for a complete one. The sink is not closed.
    """

    def __init__(self, sink: BinaryIO, file_key: bytes, binding: bytes) -> None:
        require_key(file_key, "file key")
        self._sink = sink
        self._ad = _chunk_ad(binding)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, file_key)
        self._buffer = bytearray()
        self._count = 0
        self._closed = False
        self._aborted = False
        sink.write(VERSION_BYTE + header)

    def _push(self, chunk: bytes, tag: int) -> None:
        self._sink.write(sodium.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, self._ad, tag))

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt ``data``; any size. Full chunks go out at once, the remainder waits in the buffer."""
        if self._closed or self._aborted:
            raise ValueError("write to a closed FileEncryptor")
        view = memoryview(data).cast("B")  # count bytes, whatever the item size
        self._count += len(view)
        if self._buffer:
            take = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < CHUNK_SIZE:
                return
            self._push(bytes(self._buffer), _TAG_MESSAGE)
            self._buffer.clear()
        while len(view) >= CHUNK_SIZE:
            self._push(bytes(view[:CHUNK_SIZE]), _TAG_MESSAGE)
            view = view[CHUNK_SIZE:]
        self._buffer += view

    def close(self) -> int:
        """Write the final chunk (TAG_FINAL) and return the plaintext size. Calling it again does nothing."""
        if self._aborted:
            raise ValueError("this FileEncryptor was aborted; its output is incomplete")
        if not self._closed:
            self._push(bytes(self._buffer), _TAG_FINAL)
            self._buffer.clear()
            self._closed = True
        return self._count

    def close_padded(self) -> int:
        """Append zeros up to padme(size), write the final chunk, and return the real (unpadded) size."""
        size = self._count
        missing = padme(size) - size
        while missing > 0:
            step = min(missing, CHUNK_SIZE)
            self.write(memoryview(_ZEROS)[:step])
            missing -= step
        self.close()
        return size

    def abort(self) -> None:
        """Stop without a final chunk: the output will never decrypt as a complete file."""
        self._buffer.clear()
        self._aborted = True

    def __enter__(self) -> "FileEncryptor":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        elif not self._closed:
            self.abort()


def encrypt_file(source: BinaryIO, sink: BinaryIO, file_key: bytes, binding: bytes) -> int:
    """Encrypt all of ``source`` into ``sink``; returns the plaintext size."""
    with FileEncryptor(sink, file_key, binding) as encryptor:
        while block := source.read(CHUNK_SIZE):
            encryptor.write(block)
    return encryptor.close()


def _read_exactly(source: BinaryIO, n: int) -> bytes:
    # read() may return less than asked before end of file (pipes, sockets); only b"" means the end.
    parts = []
    while n > 0 and (part := source.read(n)):
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _iter_chunks(source: BinaryIO, file_key: bytes, binding: bytes) -> Iterator[bytes]:
    """Every chunk's plaintext, each verified before it is yielded (see iter_decrypted_file)."""
    if _read_exactly(source, 1) != VERSION_BYTE:
        raise DecryptionError("unsupported format version")
    header = _read_exactly(source, _HEADERBYTES)
    ad = _chunk_ad(binding)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    with opening("not an encrypted file, or the wrong key"):
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, file_key)
    while True:
        chunk = _read_exactly(source, CHUNK_SIZE + _ABYTES)
        if not chunk:
            raise DecryptionError("the file ends without its final chunk (truncated)")
        with opening():
            plaintext, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, chunk, ad)
        if tag == _TAG_FINAL:
            if source.read(1):
                raise DecryptionError("data after the final chunk")
            yield plaintext
            return
        if tag != _TAG_MESSAGE or len(plaintext) != CHUNK_SIZE:
            raise DecryptionError("unexpected chunk: not written by FileEncryptor")
        yield plaintext


def iter_decrypted_file(
    source: BinaryIO, file_key: bytes, binding: bytes, size: int | None = None
) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk, verifying each one before it is yielded.

    Raises DecryptionError for another format version, a wrong key or binding, an altered, reordered or
    missing chunk, data after the final chunk, and a file that ends without its final chunk.
    With ``size`` (a padded attachment, size from open_file_key) it yields exactly ``size`` bytes and also
    raises unless the stream holds exactly padme(size) bytes whose padding is all zeros.
    Being a generator, it can raise *after* yielding earlier chunks: callers must not treat the output as
    complete (or show it as such) until the iterator has finished without an error.
    """
    if size is None:
        yield from _iter_chunks(source, file_key, binding)
        return
    remaining, padded, total = size, padme(size), 0
    for plaintext in _iter_chunks(source, file_key, binding):
        total += len(plaintext)
        keep = min(remaining, len(plaintext))
        if total > padded or plaintext[keep:].strip(b"\0"):
            raise DecryptionError("the padding does not match the file's size")
        remaining -= keep
        if keep:
            yield plaintext if keep == len(plaintext) else plaintext[:keep]
    if total != padded:
        raise DecryptionError("the padding does not match the file's size")


def decrypt_file(
    source: BinaryIO, sink: BinaryIO, file_key: bytes, binding: bytes, size: int | None = None
) -> int:
    """Decrypt ``source`` into ``sink``; returns the plaintext size (``size``: see iter_decrypted_file).

    On DecryptionError the sink already holds the chunks verified so far: the caller must discard it.
    """
    written = 0
    for plaintext in iter_decrypted_file(source, file_key, binding, size):
        sink.write(plaintext)
        written += len(plaintext)
    return written


__all__ = [
    "CHUNK_SIZE",
    "FILE_KEY_KIND",
    "FileEncryptor",
    "FileKey",
    "ciphertext_size",
    "decrypt_file",
    "encrypt_file",
    "iter_decrypted_file",
    "new_file_key",
    "open_file_key",
    "padme",
    "seal_file_key",
]
