"""Passphrases in the reporter's language: the bundled Dutch list keeps its rules, every list and word count
reaches 90 bits or is refused, and the words are drawn uniformly."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from crypto.reporter import (
    MIN_PASSPHRASE_BITS,
    WORDLISTS,
    new_passphrase,
    normalize_passphrase,
    passphrase_entropy_bits,
    passphrase_from,
    passphrase_word_count,
    wordlist,
)
from tests.crypto.wordlist_nl import SIZE, acceptable, blocked, prefix_free


def test_the_dutch_list_is_common_short_plain_words_none_a_prefix_of_another() -> None:
    words = wordlist("nl")
    assert len(words) == len(set(words)) == SIZE
    assert all(acceptable(word) for word in words), [w for w in words if not acceptable(w)][:10]
    assert prefix_free(words)
    assert all(normalize_passphrase(word) == word for word in words)
    assert {"huis", "tafel", "fiets"} <= set(words)  # everyday words made it in


def test_the_rules_refuse_capitals_diacritics_confusable_spellings_and_blocked_words() -> None:
    for word in ("Amsterdam", "café", "tijd", "klein", "blauw", "goud", "wordt", "ab", "vertrouwenspersoon",
                 "btw", "kanker", "moord"):
        assert not acceptable(word), word
    assert blocked("neuken") and not blocked("tafel")
    assert not prefix_free(["boek", "boeken"])


@pytest.mark.parametrize("language", sorted(WORDLISTS))
def test_each_language_gets_as_many_words_as_reach_90_bits(language: str) -> None:
    count = passphrase_word_count(language)
    bits_per_word = math.log2(len(wordlist(language)))
    assert count * bits_per_word >= MIN_PASSPHRASE_BITS > (count - 1) * bits_per_word
    assert passphrase_entropy_bits(language=language) >= 90
    words = new_passphrase(language=language).split(" ")
    assert len(words) == count and set(words) <= set(wordlist(language))


def test_the_counts_are_the_documented_ones() -> None:
    assert passphrase_word_count("en") == 7 and passphrase_entropy_bits(language="en") == pytest.approx(90.47, abs=0.01)
    assert passphrase_word_count("nl") == 8 and passphrase_entropy_bits(language="nl") == pytest.approx(96.0)


@pytest.mark.parametrize(("words", "count"), [
    (wordlist("nl"), 7),                   # 84 bits
    (wordlist("en"), 6),                   # 77.5 bits
    ([f"w{i}" for i in range(1024)], 8),   # 80 bits: a small list needs more words
    (["een", "twee"], 89),                 # 89 bits
    (["een"], 500),                        # one word carries no entropy at all
])
def test_a_list_and_count_under_90_bits_are_refused(words: list[str], count: int) -> None:
    with pytest.raises(ValueError, match="90 bits"):
        passphrase_from(words, count)


def test_a_list_with_repeated_words_is_refused() -> None:
    with pytest.raises(ValueError, match="repeat"):
        passphrase_from(["een"] * 5000, 10)
    assert len(passphrase_from([f"w{i}" for i in range(1024)], 9).split()) == 9  # 90 bits: accepted


def test_unknown_language_has_no_list() -> None:
    with pytest.raises(ValueError):
        wordlist("xx")


def test_words_are_drawn_uniformly() -> None:
    small = [f"w{i}" for i in range(8)]
    draws = Counter(word for _ in range(400) for word in passphrase_from(small, 30).split())
    assert set(draws) == set(small)
    expected = 400 * 30 / 8
    assert all(abs(n - expected) < 0.1 * expected for n in draws.values())
