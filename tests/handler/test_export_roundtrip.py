"""Offline opening: export a case with the CLI, open it with `python -m crypto.open` in another process that
cannot import the web stack, and read the case the way the case page shows it."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.cli import main
from app.models import Message
from app.services.limits import Limits

from .conftest import csrf_tokens  # noqa: TID252

# Runs crypto.open as `python -m` would, with the web stack and the app made unimportable.
ONLY_CRYPTO = (
    "import runpy, sys\n"
    "class Refuse:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in {'app', 'flask', 'flask_babel', 'babel', 'sqlalchemy', 'werkzeug', 'alembic'}:\n"
    "            raise ImportError('offline opening must not need ' + name)\n"
    "sys.meta_path.insert(0, Refuse())\n"
    "sys.argv[0] = 'meldkluis-open'\n"
    "runpy.run_module('crypto.open', run_name='__main__')\n"
)


def _post(client: FlaskClient, reference: str, action: str, text: str) -> None:
    page = f"/nl/handler/case/{reference}"
    token = next(iter(csrf_tokens(client, page).values()))
    response = client.post(f"{page}/{action}", data={f"{action}-csrf_token": token, f"{action}-text": text})
    assert response.status_code in (200, 302, 303), (action, response.status_code)


def _open(tmp_path: Path, bundle: Path, key_file: Path, recovery_file: Path, out: Path) -> str:
    opened = subprocess.run(
        [sys.executable, "-c", ONLY_CRYPTO, str(bundle), "--key-file", str(key_file), "--out", str(out),
         "--recovery-key-file", str(recovery_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert opened.returncode == 0, opened.stderr
    return (out / "case.txt").read_text(encoding="utf-8")


def test_export_and_open_offline_reads_like_the_case_page(app: Flask, client: FlaskClient, make_member, login,
                                                          make_case, cli, tmp_path: Path) -> None:
    from app.services import mailbox as mailboxes

    anna = make_member("anna")
    outsider = make_member("otto", channels=())
    received = date(2026, 3, 2)
    receipt = make_case(
        files=(("bewijs.pdf", b"%PDF evidence bytes"), ("foto.jpg", b"\xff\xd8jpeg")), day=received,
        fields={"what": "De manager declareert privé-etentjes.", "when": "maart", "ongoing": "yes", "who": ""},
    )
    login(client, anna)
    _post(client, receipt.reference, "acknowledge", "Wij hebben uw melding ontvangen.")
    _post(client, receipt.reference, "reply", "Kunt u meer vertellen?")
    with app.test_request_context(), db.session_scope(app) as session:
        settings = app.config["MELDKLUIS"]
        result = mailboxes.login(session, settings, receipt.receipt_code, receipt.passphrase,
                                 limits=Limits.in_memory())
        mailbox = mailboxes.resume(session, settings, result.cookie_value)
        assert mailbox is not None
        mailboxes.post_reply(session, settings, mailbox, "Het ging om drie etentjes.", [])
    _post(client, receipt.reference, "feedback", "Wij hebben maatregelen genomen.")
    _post(client, receipt.reference, "note", "Notitie voor het dossier")
    with db.session_scope(app) as session:
        days = [m.created_on.isoformat() for m in session.scalars(select(Message).order_by(Message.counter))]
    assert len(days) == 4

    bundle = tmp_path / "case.json"
    refused = cli.invoke(main, ["export-case", receipt.reference, "--user", "otto", "--out", str(bundle)])
    assert refused.exit_code != 0 and not bundle.exists() and outsider.id
    result = cli.invoke(main, ["export-case", receipt.reference, "--user", "anna", "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    raw = bundle.read_bytes()
    for plaintext in (b"declareert", b"Kunt u meer", b"drie etentjes", b"Notitie", b"bewijs.pdf", b"PDF evidence"):
        assert plaintext not in raw
    key_file = tmp_path / "anna.key.json"
    exported = cli.invoke(main, ["user", "export-key", "anna", "--out", str(key_file)], input=anna.recovery_key + "\n")
    assert exported.exit_code == 0, exported.output
    recovery_file = tmp_path / "recovery.txt"
    recovery_file.write_text(anna.recovery_key)

    out = tmp_path / "opened"
    text = _open(tmp_path, bundle, key_file, recovery_file, out)
    # The report under its Dutch question labels, coded answers in words, empty answers left out.
    assert "Melding\n-------\n2026-03-02\n" in text
    assert "Wat is er gebeurd?\n    De manager declareert privé-etentjes." in text
    assert "Wanneer is het gebeurd?\n    maart" in text
    assert "Gaat het nog door?\n    Ja" in text
    assert "Wie zijn erbij betrokken?" not in text and "what" not in text
    # The thread in order, each with its day, author and kind.
    thread = [
        f"[1] · {days[0]} · Anna (Behandelaar) · Ontvangstbevestiging\n    Wij hebben uw melding",
        f"[2] · {days[1]} · Anna (Behandelaar)\n    Kunt u meer vertellen?",
        f"[3] · {days[2]} · Melder\n    Het ging om drie etentjes.",
        f"[4] · {days[3]} · Anna (Behandelaar) · Terugkoppeling\n    Wij hebben maatregelen",
    ]
    positions = [text.index(entry) for entry in thread]
    assert positions == sorted(positions)
    assert "Interne notities\n----------------\n\n" + f"{days[3]} · Anna (Behandelaar)\n" \
           "    Notitie voor het dossier" in text
    assert "files/bewijs.pdf · 19 bytes · bij de melding · 2026-03-02" in text
    assert "files/foto.jpg · 6 bytes · bij de melding" in text
    files = {p.name: p.read_bytes() for p in (out / "files").iterdir()}
    assert files == {"bewijs.pdf": b"%PDF evidence bytes", "foto.jpg": b"\xff\xd8jpeg"}

    english = tmp_path / "case-en.json"
    result = cli.invoke(main, ["export-case", receipt.reference, "--user", "anna", "--out", str(english),
                               "--lang", "en"])
    assert result.exit_code == 0, result.output
    text_en = _open(tmp_path, english, key_file, recovery_file, tmp_path / "opened-en")
    assert "What happened?\n    De manager declareert" in text_en and "Is it still going on?\n    Yes" in text_en
    assert "· Anna (Handler) · Acknowledgement of receipt" in text_en
    assert "Internal notes" in text_en and "with the report" in text_en
