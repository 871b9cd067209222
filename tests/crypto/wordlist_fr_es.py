"""How crypto/wordlist_fr.txt and crypto/wordlist_es.txt are made from Debian's word lists, and their rules.

Build (needs Debian's `wfrench` and `wspanish` and, for the frequencies, the `wordfreq` package; none is
needed to run):

    apt-get install wfrench wspanish && .venv/bin/pip install wordfreq
    .venv/bin/python tests/crypto/wordlist_fr_es.py fr > crypto/wordlist_fr.txt
    .venv/bin/python tests/crypto/wordlist_fr_es.py es > crypto/wordlist_es.txt

A dictionary word is kept when it is lower case (no names), its accents dropped (é, è, ê, à, ù, ç, á, í, ó, ú,
ü become plain letters) leave 3 to 9 letters a-z, it has no letter that cannot be dropped that way (ñ, œ, æ:
"año" would become another word), it is more common in its language than in English, and it is not on the
blocklist (swearing, sex, violence and death, illness, insults, crime). The most common words are taken first
(wordfreq's Zipf frequency of the written word), skipping a word whose plain spelling another kept word already
has, or that is a prefix of a kept word or has one as its prefix, until SIZE words are kept. So every word is
typed in plain letters on any keyboard, and one typed with its accents opens the mailbox too
(crypto.reporter.normalize_passphrase drops accents).
"""

from __future__ import annotations

import bisect
import re
import sys
import unicodedata
from collections.abc import Iterable

SIZE = 4096  # 12 bits a word: 8 words give 96 bits (the reporter code asks for at least 90)
SHAPE = re.compile(r"[a-z]{3,9}")
VOWEL = re.compile(r"[aeiouy]")
DICTIONARIES = {"fr": "/usr/share/dict/french", "es": "/usr/share/dict/spanish"}
BLOCKED_PARTS = {
    "fr": (
        "baise", "baiser", "bite", "branl", "chatte", "chier", "con", "couill", "crev", "cul", "encul", "foutr",
        "gouin", "merd", "nazi", "negr", "nègre", "noir", "pede", "pédé", "porn", "pute", "putain", "salaud",
        "salop", "sexe", "suicid", "tapette", "viol", "zizi", "mort", "meurtr", "tuer", "tue", "assassin", "arme",
        "fusil", "bombe", "guerre", "sang", "cadavre", "tomb", "cancer", "sida", "malad", "idiot", "imbecil",
        "debil", "crétin", "cretin", "stupid", "abruti", "connard", "drogue", "cocaine", "alcool", "vol", "voleur",
        "prison", "police", "fraude", "corromp", "corrupt", "licenci", "raci", "haine", "enfer", "diable", "satan",
        "dieu", "juif", "islam", "arabe", "nu", "seins", "sein", "fesse", "pénis", "penis", "vagin", "orgasm",
        "terror", "otage", "esclav", "gros", "laid", "moche", "folle", "fou", "viole", "battu", "frapp",
        "blessur", "blesse", "mourir", "meur", "decede", "décéd", "funér", "funer", "enterr", "vengeance", "cercueil",
        "bourr", "chiant", "coca", "emmerd", "explos", "homo", "niqu", "sexy", "bordel", "nichon", "zob", "pisse",
        "pipi", "cocu", "gueul", "batard", "chiott", "crott", "caca", "pet", "prout", "nibar", "gay", "lesb",
        "drogu", "shoot", "ivre", "cuite", "bite", "queue", "capote", "sodom", "pervers", "pedo", "inceste",
        "chomage", "chomeur", "dette", "faillite", "israel", "palestin", "hitler", "allah", "jesus", "christ",
        "pape", "pretre", "mosquee", "eglise", "religion", "torture", "poison", "poignard", "couteau", "flingue",
        "munition", "explosif", "missile", "massacre", "genocide", "tuerie", "victime", "cimetiere", "deces", "abus",
        "accus", "avort", "harcel", "menace", "agress", "attentat", "crime", "criminel", "proces", "coupable",
    ),
    "es": (
        "puta", "puto", "mierd", "cojon", "coño", "cono", "joder", "jodid", "follar", "polla", "pene", "vagina",
        "culo", "caca", "pedo", "marica", "maricon", "nazi", "negr", "porn", "sexo", "sexual", "violar", "violac",
        "muert", "morir", "muer", "matar", "mata", "asesin", "arma", "pistol", "bomba", "guerra", "sangre",
        "cadaver", "tumba", "cancer", "sida", "enferm", "idiota", "imbecil", "estupid", "tonto", "tonta",
        "droga", "cocaina", "alcohol", "borrach", "robo", "robar", "ladron", "carcel", "prision", "policia",
        "fraude", "corrup", "despid", "racis", "odio", "infierno", "diablo", "satan", "dios", "judio", "islam",
        "desnud", "teta", "pecho", "orgasm", "terror", "rehen", "esclav", "gordo", "gorda", "feo", "fea", "loco",
        "loca", "golpe", "herid", "suicid", "vengan", "funeral", "entierr", "ataud", "cabron", "zorra", "perra",
        "coca", "erec", "erot", "palestin", "israel", "hitler", "jesus", "cristo", "papa", "cura", "iglesia",
        "religion", "tortur", "veneno", "cuchill", "puñal", "punal", "explos", "municion", "misil", "masacre",
        "genocid", "victima", "cementerio", "homo", "gay", "lesbi", "pervers", "incest", "chingar", "chinga",
        "pendej", "gilipoll", "hostia", "carajo", "verga", "concha", "pinche", "mamada", "paja", "huevon",
        "mear", "meado", "orina", "vomit", "desemple", "quiebra", "deuda", "borrach", "ebrio", "cerveza", "abus",
        "abort", "acos", "acus", "amenaz", "agresi", "atentad", "crimen", "criminal", "culpable", "delito",
    ),
}


def plain(word: str) -> str:
    """The word without accents (é -> e, ç -> c): what a reporter types on any keyboard."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


ENDINGS = ("", "s", "e", "es", "x", "a", "o", "as", "os")


def blocked(word: str, language: str) -> bool:
    """A blocked part of four letters or more starts the word (or, of five or more, is in it); a shorter one
    is the word itself, perhaps with a plural or feminine ending ("con", "cons"; not "conseil")."""
    for part in (plain(p) for p in BLOCKED_PARTS[language]):
        if len(part) < 4:
            if word.startswith(part) and word[len(part):] in ENDINGS:
                return True
        elif word.startswith(part) or (len(part) >= 5 and part in word):
            return True
    return False


def acceptable(word: str, language: str) -> bool:
    """The rules a single word of the list must meet, on its plain spelling (common-ness: build time)."""
    return (bool(SHAPE.fullmatch(word)) and bool(VOWEL.search(word)) and not blocked(word, language))


def build(dictionary: Iterable[str], language: str, size: int = SIZE) -> list[str]:  # pragma: no cover - by hand
    import wordfreq  # type: ignore[import-not-found]

    def zipf(word: str, lang: str) -> float:
        return float(wordfreq.zipf_frequency(word, lang))

    best: dict[str, float] = {}
    for written in {line.strip() for line in dictionary}:
        if not written or written != written.lower() or any(ch in written for ch in "ñœæ"):
            continue
        word = plain(written)
        if not acceptable(word, language):
            continue
        frequency = zipf(written, language)
        if frequency > zipf(word, "en") and frequency > best.get(word, 0.0):
            best[word] = frequency
    candidates = sorted(best, key=lambda w: (-best[w], w))
    kept: list[str] = []
    for word in candidates:
        at = bisect.bisect_left(kept, word)
        if at < len(kept) and kept[at].startswith(word):
            continue
        if any(word[:n] in kept for n in range(3, len(word))):
            continue
        kept.insert(at, word)
        if len(kept) == size:
            return kept
    raise SystemExit(f"only {len(kept)} words pass the rules")


if __name__ == "__main__":  # pragma: no cover
    lang = sys.argv[1]
    with open(DICTIONARIES[lang], encoding="utf-8") as source:
        sys.stdout.write("\n".join(build(source, lang)) + "\n")
