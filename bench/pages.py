"""Weight of every reporter page: HTML + CSS bytes and request count; each must stay under 30 KB.

Runs the app in-process (Flask test client) on a temporary SQLite instance with the test KDF for staff, walks the
reporter flow (start, route map, channel choice, submit form, receipt, mailbox login, mailbox) and prints
a table. Exits non-zero if any page is over budget or loads anything but its HTML and local resources.

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


def run() -> list[PageWeight]:
    os.environ.pop("DATABASE_URL", None)
    from app import create_app, db, migrate
    from app.config import Settings, load_master_secret
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
        client = app.test_client()
        weights: list[PageWeight] = []
        for name, path in [("start", "/nl/"), ("route map", "/nl/routekaart"), ("choose channel", "/nl/melden"),
                           ("submit form", "/nl/melden/misstand"), ("mailbox login", "/nl/brievenbus/inloggen")]:
            response = client.get(path)
            assert response.status_code == 200, path
            weights.append(weigh(client, name, response.data))
        form = client.get("/nl/melden/misstand").get_data(as_text=True)
        token = TOKEN.search(form)
        assert token
        receipt = client.post("/nl/melden/misstand", content_type="multipart/form-data", data={
            "csrf_token": token.group(1), "category": "fraude", "what": "Een melding voor de meting. " * 20,
            "files": [(io.BytesIO(b"evidence"), "bewijs.txt")]})
        assert receipt.status_code == 200
        weights.append(weigh(client, "receipt", receipt.data))
        html = receipt.get_data(as_text=True)
        code = re.search(r'id="receipt-code">([^<]+)<', html)
        words = re.search(r'id="passphrase">([^<]+)<', html)
        assert code and words
        login_token = TOKEN.search(client.get("/nl/brievenbus/inloggen").get_data(as_text=True))
        assert login_token
        client.post("/nl/brievenbus/inloggen", data={"csrf_token": login_token.group(1),
                                                     "receipt_code": code.group(1), "passphrase": words.group(1)})
        mailbox = client.get("/nl/brievenbus")
        assert mailbox.status_code == 200
        weights.append(weigh(client, "mailbox", mailbox.data))
        db.engine_of(app).dispose()
        return weights


def main() -> int:
    weights = run()
    print(f"{'page':<16} {'HTML B':>8} {'CSS B':>8} {'total B':>8} {'requests':>9}  under 30 KB")
    for w in weights:
        print(f"{w.name:<16} {w.html_bytes:>8} {w.css_bytes:>8} {w.total:>8} {w.requests:>9}  "
              f"{'yes' if w.ok else 'NO'}")
    return 0 if all(w.ok for w in weights) else 1


if __name__ == "__main__":
    sys.exit(main())
