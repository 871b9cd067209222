"""Dutch is the default language: every string of every page and service has one Dutch translation.

The msgids are extracted from the sources the way Babel would for a catalogue (the Jinja extractor for
templates, the Python extractor for app/), so a string added anywhere without its Dutch fails here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from app.config import ROOT
from app.i18n import SOURCE_DIR, load_catalog

KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2), "msgid": None}


def _sources() -> list[Path]:
    return sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "app").rglob("*.py"))


def _msgids(path: Path) -> list[str | tuple[str, str]]:
    template = path.suffix == ".html"
    method = "jinja2.ext.babel_extract" if template else "python"
    options = {"extensions": "jinja2.ext.i18n"} if template else {}
    return [message for _line, message, _comments, _context
            in extract_from_file(method, str(path), keywords=KEYWORDS, options=options)]


def test_every_msgid_has_a_dutch_translation() -> None:
    catalog = load_catalog("nl")
    missing = []
    extracted = {path: _msgids(path) for path in _sources()}
    assert sum(map(len, extracted.values())) > 600  # the extraction itself works, templates and code alike
    assert any(isinstance(m, tuple) for ms in extracted.values() for m in ms)  # plurals are extracted too
    for path, msgids in extracted.items():
        for msgid in msgids:
            singular = msgid[0] if isinstance(msgid, tuple) else msgid
            message = catalog.get(singular)
            strings = () if message is None else (
                message.string if isinstance(message.string, tuple) else (message.string,))
            if not strings or not all(strings) or (isinstance(msgid, tuple) and len(strings) < 2):
                missing.append(f"{path.relative_to(ROOT)}: {msgid!r}")
    assert missing == []


def test_no_msgid_has_two_dutch_translations() -> None:
    translations: dict[object, dict[str, set[object]]] = defaultdict(lambda: defaultdict(set))
    for source in sorted(SOURCE_DIR.joinpath("nl").glob("*.po")):
        with source.open("rb") as handle:
            for message in read_po(handle, locale="nl"):
                if message.id:
                    translations[message.id][str(message.string)].add(source.name)
    assert len(translations) > 400
    conflicts = {msgid: {text: sorted(files) for text, files in by_text.items()}
                 for msgid, by_text in translations.items() if len(by_text) > 1}
    assert conflicts == {}
