"""The French and Spanish passphrase lists keep their rules: plain letters any keyboard types, common words,
none a prefix of another, 96 bits in 8 words; a word typed with its accents gives the same key."""

from __future__ import annotations

import pytest

from crypto.reporter import normalize_passphrase, passphrase_entropy_bits, passphrase_word_count, wordlist
from tests.crypto.wordlist_fr_es import SIZE, acceptable, blocked, plain
from tests.crypto.wordlist_nl import prefix_free


@pytest.mark.parametrize(("language", "everyday"), [("fr", {"soleil", "jardin", "ecole", "cafe"}),
                                                    ("es", {"casa", "arbol", "cafe", "musica"})])
def test_the_list_is_common_short_plain_words_none_a_prefix_of_another(language: str, everyday: set[str]) -> None:
    words = wordlist(language)
    assert len(words) == len(set(words)) == SIZE
    assert all(acceptable(word, language) for word in words), [w for w in words if not acceptable(w, language)][:10]
    assert all(word.isascii() and plain(word) == word == normalize_passphrase(word) for word in words)
    assert prefix_free(words)
    assert everyday <= set(words)
    assert passphrase_word_count(language) == 8 and passphrase_entropy_bits(language=language) == pytest.approx(96.0)


def test_the_rules_refuse_names_shapes_and_blocked_words() -> None:
    for word, language in [("ab", "fr"), ("anticonstitutionnel", "fr"), ("merde", "fr"), ("con", "fr"),
                           ("puta", "es"), ("muerte", "es"), ("l'eau", "fr")]:
        assert not acceptable(plain(word), language), word
    assert not blocked("conseil", "fr") and blocked("cons", "fr")
    assert plain("façade") == "facade" and plain("pingüino") == "pinguino"


def test_accents_capitals_and_dashes_typed_give_the_generated_words() -> None:
    assert normalize_passphrase("École  CAFÉ-Árbol pingüino") == "ecole cafe arbol pinguino"
    assert normalize_passphrase("drop-down") == "drop down"  # the English list's rule still holds
