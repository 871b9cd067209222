"""No English on Dutch staff pages: a Dutch page contains no English text that has a Dutch translation."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.i18n import load_catalog
from app.services import clock

from .conftest import Member  # noqa: TID252

PAGES = ("/nl/handler/", "/nl/handler/account", "/nl/handler/case/{ref}", "/nl/compliance/",
         "/nl/compliance/register", "/nl/compliance/report/{year}", "/nl/admin/", "/nl/admin/users/new",
         "/nl/admin/users/{user}", "/nl/admin/channels/misstand", "/nl/admin/channels/omgangsvormen",
         "/nl/admin/organisation", "/nl/admin/policies", "/nl/admin/policies/wbk",
         "/nl/admin/audit", "/nl/admin/channels/new")


def _english_texts() -> list[str]:
    """Msgids whose Dutch text differs, long enough to be a phrase (single words like "Admin" are shared)."""
    found = []
    for message in load_catalog("nl"):
        if not message.id or not message.string:
            continue
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        dutch = message.string[0] if isinstance(message.string, tuple) else message.string
        text = re.split(r"%\(\w+\)s", singular)[0].strip()  # the fixed text before the first placeholder
        if text != dutch.split("%(")[0].strip() and len(text) >= 12 and " " in text:
            found.append(text)
    return found


def _visible_text(page: str) -> str:
    page = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_dutch_staff_pages_contain_no_translated_english(
    app: Flask, client: FlaskClient, make_member: Callable[..., Member], login: Callable[..., Any],
    make_case: Callable[..., Any],
) -> None:
    everyone = make_member("alle", roles=("handler", "compliance", "admin"))
    receipt = make_case(day=clock.today() - timedelta(days=100),
                        fields={"what": "Facturen.", "ongoing": "yes"}, files=(("a.pdf", b"%PDF"),))
    login(client, everyone)
    values = {"ref": receipt.reference, "year": clock.today().year, "user": everyone.id}
    english = _english_texts()
    assert len(english) > 200
    problems = []
    for path in PAGES:
        response = client.get(path.format(**values))
        assert response.status_code == 200, path
        text = _visible_text(response.get_data(as_text=True))
        problems += [f"{path}: {phrase!r}" for phrase in english if phrase in text]
    assert problems == []
