"""Every string of the handler and admin pages has a Dutch translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file

from app.config import ROOT
from app.i18n import load_catalog

SOURCES = [
    ROOT / "app/web/handler.py", ROOT / "app/web/admin.py", ROOT / "app/services/staff_auth.py",
    ROOT / "app/services/handling.py", ROOT / "app/services/administration.py",
    *sorted((ROOT / "templates/handler").glob("*.html")), *sorted((ROOT / "templates/admin").glob("*.html")),
]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _msgids(path: Path) -> list[str]:
    method = "jinja2.ext.babel_extract" if path.suffix == ".html" else "python"
    options = {"extensions": "jinja2.ext.i18n"} if path.suffix == ".html" else {}
    found = []
    for _lineno, message, _comments, _context in extract_from_file(method, str(path), keywords=KEYWORDS,
                                                                   options=options):
        found.append(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_handler_string_is_translated() -> None:
    catalog = load_catalog("nl")
    missing = []
    extracted = {path: _msgids(path) for path in SOURCES}
    assert sum(map(len, extracted.values())) > 200  # the extraction itself works
    for path, msgids in extracted.items():
        for msgid in msgids:
            message = catalog.get(msgid)
            translated = message is not None and (message.string[0] if isinstance(message.string, tuple)
                                                  else message.string)
            if not translated:
                missing.append(f"{path.name}: {msgid}")
    assert missing == []
