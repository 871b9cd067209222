"""How crypto/wordlist_nl.txt is made from OpenTaal's word list, and the rules the bundled list must keep.

Build (needs Debian's `wdutch` and, for the frequencies, the `wordfreq` package; neither is needed to run):

    apt-get install wdutch && .venv/bin/pip install wordfreq
    .venv/bin/python tests/crypto/wordlist_nl.py > crypto/wordlist_nl.txt

A word is kept when it is in OpenTaal's list (/usr/share/dict/dutch), has 3 to 9 letters a-z (no capital, no
diacritic, no hyphen or apostrophe), avoids the spellings Dutch writers mix up (ei/ij, au/ou, a final -dt) and
loan-word letters (c, q, x, y), has a vowel (no abbreviations), is more Dutch than English, is not on the blocklist (swearing, sex, illness
used as a curse, violence and death, insults, slurs), and is common (wordfreq's Zipf frequency). The most common
words are taken first, skipping any word that is a prefix of a kept word or has one as its prefix, so every
word is recognised from its letters alone, until SIZE words are kept.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Iterable

SIZE = 4096  # 12 bits a word: 8 words give 96 bits (the reporter code asks for at least 90)
SHAPE = re.compile(r"[a-z]{3,9}")
CONFUSABLE = re.compile(r"ij|ei|au|ou|dt$|[cqxy]")
BLOCKED_PARTS = (
    "anaal", "anal", "bitch", "bom", "borst", "coke", "debiel", "dood", "dode", "drug", "fuck", "gay", "geil",
    "gelul", "geweer", "graf", "heroine", "hoer", "homo", "idioot", "jood", "joden", "kak", "kanker", "kloot",
    "klere", "kont", "kreupel", "kut", "lul", "mongool", "moord", "naakt", "nazi", "neger", "neuk", "orgasm",
    "pedo", "penis", "pest", "pik", "pis", "poep", "porno", "reet", "schiet", "seks", "sex", "slet", "sperma",
    "spast", "stront", "sukkel", "terror", "tering", "tiet", "trut", "tyfus", "vagina", "verkracht",
    "vinger", "wapen", "wiet", "zeik", "zelfmoord", "gevecht", "mishandel", "misbruik", "ontvoer", "oorlog",
    "bloed", "lijk", "sterf", "sterv", "gestorven", "overled", "begraf", "kogel", "mes", "steek", "vermoord",
    "slaaf", "slaven", "racis", "haat", "hel", "duivel", "satan", "dronk", "zuip", "bier", "wodka", "dief",
    "crimin", "gevang", "cel", "politie", "arrest", "fraud", "corrupt", "ontslag", "ziek", "virus", "dement",
    "gek", "mof", "zwart", "bruin", "dik", "lelijk", "stom", "dom", "vibrat", "haram", "bloot", "geslagen",
    "wraak", "wond", "witwas", "wrede", "wreed",
)
BLOCKED_WORDS = frozenset({
    "god", "allah", "jezus", "aids", "sos", "oke", "hoi", "doei",
    # abbreviations, names and sounds that pass the shape rules
    "apk", "hbo", "mbo", "vve", "vwo", "wii", "mmm", "ava", "eva", "mia", "wim", "rik", "rob", "rio", "ede", "rai",
    "tao", "pip", "boa", "hai", "goh", "tja", "bah", "aha", "hup", "joh", "uwe", "der", "des", "ere", "els", "sas",
    "ros", "tam", "ria", "bam", "ende", "zweden", "zeeland", "woerden",
})
VOWEL = re.compile(r"[aeiou]")


def blocked(word: str) -> bool:
    """A word from the blocklist, or one that contains a blocked part where that part starts the word."""
    return word in BLOCKED_WORDS or any(word.startswith(part) or (len(part) >= 5 and part in word)
                                        for part in BLOCKED_PARTS)


def acceptable(word: str) -> bool:
    """The rules a single word of the Dutch list must meet (the common-ness is checked at build time)."""
    return (bool(SHAPE.fullmatch(word)) and bool(VOWEL.search(word)) and not CONFUSABLE.search(word)
            and not blocked(word))


def prefix_free(words: Iterable[str]) -> bool:
    """No word is a prefix of another."""
    ordered = sorted(words)
    return all(not later.startswith(earlier) for earlier, later in zip(ordered, ordered[1:], strict=False))


def build(dictionary: Iterable[str], size: int = SIZE) -> list[str]:  # pragma: no cover - run by hand
    import wordfreq  # type: ignore[import-not-found]

    def zipf(word: str, language: str) -> float:
        return float(wordfreq.zipf_frequency(word, language))

    candidates = [w for w in {line.strip() for line in dictionary} if acceptable(w) and zipf(w, "nl") > zipf(w, "en")]
    candidates.sort(key=lambda w: (-zipf(w, "nl"), w))
    kept: list[str] = []
    for word in candidates:
        at = bisect.bisect_left(kept, word)
        before_is_prefix = at > 0 and word.startswith(kept[at - 1])
        is_prefix_of_next = at < len(kept) and kept[at].startswith(word)
        # a shorter kept word that is a prefix sorts right before `word`, but not necessarily adjacent
        has_kept_prefix = any(word[:n] in kept for n in range(3, len(word))) if not before_is_prefix else True
        if has_kept_prefix or is_prefix_of_next:
            continue
        kept.insert(at, word)
        if len(kept) == size:
            return kept
    raise SystemExit(f"only {len(kept)} words pass the rules")


if __name__ == "__main__":  # pragma: no cover
    with open("/usr/share/dict/dutch", encoding="utf-8") as source:
        sys.stdout.write("\n".join(build(source)) + "\n")
