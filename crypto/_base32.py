"""Crockford base32, for codes that humans copy by hand: no I, L, O or U, and case-insensitive."""

import re
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def encode(data: bytes) -> str:
    """Encode bytes, zero-padding the last symbol to whole 5-bit groups."""
    n_symbols = -(-len(data) * 8 // 5)
    value = int.from_bytes(data, "big") << (n_symbols * 5 - len(data) * 8)
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(n_symbols)))


def group(symbols: str, size: int = 4) -> str:
    """Show symbols in dash-separated groups, e.g. ``K7QX-3M9P``."""
    return "-".join(symbols[i : i + size] for i in range(0, len(symbols), size))


def canonical(text: str) -> str:
    """Uppercase, drop spaces and dashes, and read O as 0 and I/L as 1, as Crockford prescribes."""
    text = unicodedata.normalize("NFKC", text)
    return _SEPARATORS.sub("", text).upper().translate(_READ_AS)


def decode(text: str, n_bytes: int) -> bytes | None:
    """Decode ``n_bytes`` from a human-typed code; None if it has the wrong length, symbols or padding."""
    n_symbols = -(-n_bytes * 8 // 5)
    if len(text) > 4 * n_symbols:  # bound the work an anonymous visitor can ask for
        return None
    symbols = canonical(text)
    if len(symbols) != n_symbols or not all(char in _VALUES for char in symbols):
        return None
    value = 0
    for char in symbols:
        value = (value << 5) | _VALUES[char]
    pad_bits = n_symbols * 5 - n_bytes * 8
    if value & ((1 << pad_bits) - 1):
        return None  # only one spelling per value: the padding bits must be zero
    return (value >> pad_bits).to_bytes(n_bytes, "big")
