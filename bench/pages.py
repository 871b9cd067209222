"""Weight of every reporter page: HTML + CSS bytes and request count; each must stay under 30 KB.

Runs the app in-process (Flask test client) on a temporary SQLite instance with the test KDF for staff, walks the
reporter flow in each of the six languages (every GET page and every page shown after a POST: form errors, receipt,
already received, failed login, mailbox, its errors, the identity confirmation, the login that returns an unsent
text) and prints a table. Exits non-zero if any page is over budget or loads anything but its HTML and local resources.

    .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BUDGET_BYTES = 30 * 1024
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')
RECEIPT = re.compile(r'id="receipt-code">([^<]+)<')
PASSPHRASE = re.compile(r'id="passphrase"[^>]*>([^<]+)<')
RESOURCE = re.compile(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"|<img[^>]+src="([^"]+)"|<script[^>]+src="([^"]+)"')


@dataclass(frozen=True)
class PageWeight:
    name: str
    html_bytes: int
    css_bytes: int
    requests: int
    external: int

    @property
    def total(self) -> int:
        return self.html_bytes + self.css_bytes

    @property
    def ok(self) -> bool:
        return self.total < BUDGET_BYTES and self.external == 0


def weigh(client, name: str, html: bytes) -> PageWeight:  # type: ignore[no-untyped-def]
    resources = [next(group for group in match if group) for match in RESOURCE.findall(html.decode())]
    external = sum(1 for url in resources if not url.startswith("/") or url.startswith("//"))
    extra = sum(len(client.get(url).data) for url in resources if url.startswith("/") and not url.startswith("//"))
    return PageWeight(name, len(html), extra, 1 + len(resources), external)


def _walk(app, client, lang: str) -> list[PageWeight]:  # type: ignore[no-untyped-def]
    """Every reporter page in `lang`, GET pages and the pages shown after a POST."""
    from sqlalchemy import delete

    from app import db
    from app.models import ReporterSession

    weights: list[PageWeight] = []

    def page(name: str, response) -> str:  # type: ignore[no-untyped-def]
        weights.append(weigh(client, f"{lang} {name}", response.data))
        return str(response.get_data(as_text=True))

    def token(path: str) -> str:
        found = TOKEN.search(client.get(path).get_data(as_text=True))
        assert found, path
        return found.group(1)

    for name, path in [("start", "/"), ("route map", "/routekaart"), ("choose channel", "/melden"),
                       ("submit misstand", "/melden/misstand"), ("submit integriteit", "/melden/integriteit"),
                       ("submit omgangsv.", "/melden/omgangsvormen"),
                       ("submit vertrouw.", "/melden/vertrouwenspersoon"), ("mailbox login", "/brievenbus/inloggen"),
                       ("not found", "/no-such-page")]:
        response = client.get(f"/{lang}{path}")
        assert response.status_code in (200, 404), path
        page(name, response)
    submit = f"/{lang}/melden/misstand"
    form = client.get(submit).get_data(as_text=True)
    once = ONCE.search(form)
    assert once
    page("submit errors", client.post(submit, content_type="multipart/form-data", data={
        "csrf_token": token(submit), "once": once.group(1), "what": "x" * 2000}))
    fields = {"csrf_token": token(submit), "once": once.group(1), "category": "fraude",
              "what": "Een melding voor de meting. " * 20,
              "recipients": re.findall(r'<input checked[^>]* name="recipients" type="checkbox" value="([^"]+)"', form)}
    html = page("receipt", client.post(submit, content_type="multipart/form-data",
                                       data={**fields, "files": [(io.BytesIO(b"evidence"), "bewijs.txt")]}))
    page("already received", client.post(submit, content_type="multipart/form-data", data=fields))
    code, words = RECEIPT.search(html), PASSPHRASE.search(html)
    assert code and words, re.findall(r'class="error[^>]*>([^<]*)', html)
    login = f"/{lang}/brievenbus/inloggen"
    page("login failed", client.post(login, data={"csrf_token": token(login), "receipt_code": code.group(1),
                                                  "passphrase": "wrong"}))
    client.post(login, data={"csrf_token": token(login), "receipt_code": code.group(1), "passphrase": words.group(1)})
    page("mailbox", client.get(f"/{lang}/brievenbus"))
    mailbox_token = token(f"/{lang}/brievenbus")
    page("mailbox errors", client.post(f"/{lang}/brievenbus/bericht", content_type="multipart/form-data",
                                       data={"csrf_token": mailbox_token, "body": ""}))
    page("identity confirm", client.post(f"/{lang}/brievenbus/identiteit",
                                         data={"csrf_token": mailbox_token, "identity": "Jan Jansen"}))
    with db.session_scope(app) as session:
        session.execute(delete(ReporterSession))
    page("login unsent text", client.post(f"/{lang}/brievenbus/bericht", content_type="multipart/form-data",
                                          data={"csrf_token": mailbox_token, "body": "Een lang antwoord. " * 100}))
    return weights


def _add_reader(session, settings) -> None:  # type: ignore[no-untyped-def]
    """A handler who receives every channel: a report to a channel nobody can read is refused."""
    from sqlalchemy import select

    from app.models import Channel, ChannelRecipient
    from app.services import accounts

    user = accounts.create_user(session, "lezer", ["handler"], display_name="Lezer")
    accounts.activate_user(session, user, "a long enough password 123", settings.handler_kdf)
    for channel in session.scalars(select(Channel)):
        session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))


def run() -> list[PageWeight]:
    os.environ.pop("DATABASE_URL", None)
    from app import create_app, db, migrate
    from app.config import Settings, load_master_secret
    from app.i18n import LANGUAGES
    from app.services.defaults import ensure_defaults
    from crypto.params import TEST_KDF

    with tempfile.TemporaryDirectory(prefix="meldkluis-pages-") as folder:
        instance = Path(folder) / "instance"
        url = f"sqlite:///{instance / 'meldkluis.db'}"
        instance.mkdir()
        migrate.upgrade(url)
        settings = Settings(instance_path=instance, database_url=url, storage_path=instance / "storage",
                            master_secret=load_master_secret(instance), handler_kdf=TEST_KDF)
        app = create_app(settings)
        with db.session_scope(app) as session:
            ensure_defaults(session)
            _add_reader(session, settings)
        client = app.test_client()
        weights: list[PageWeight] = []
        for lang in LANGUAGES:
            weights.extend(_walk(app, client, lang))
        db.engine_of(app).dispose()
        return weights


def main() -> int:
    weights = run()
    print(f"{'page':<22} {'HTML B':>8} {'CSS B':>8} {'total B':>8} {'requests':>9}  under 30 KB")
    for w in weights:
        print(f"{w.name:<22} {w.html_bytes:>8} {w.css_bytes:>8} {w.total:>8} {w.requests:>9}  "
              f"{'yes' if w.ok else 'NO'}")
    return 0 if all(w.ok for w in weights) else 1


if __name__ == "__main__":
    sys.exit(main())
