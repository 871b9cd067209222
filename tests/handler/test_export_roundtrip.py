"""Offline opening: export a case with the CLI, open it with `python -m crypto.open` in another process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.config import ROOT

from .conftest import csrf_tokens  # noqa: TID252


def test_export_and_open_offline(app: Flask, client: FlaskClient, make_member, login, make_case, cli,
                                 tmp_path: Path) -> None:
    anna = make_member("anna")
    outsider = make_member("otto", channels=())
    receipt = make_case(files=(("bewijs.pdf", b"%PDF evidence bytes"), ("foto.jpg", b"\xff\xd8jpeg")))
    login(client, anna)
    page = f"/nl/handler/case/{receipt.reference}"
    token = next(iter(csrf_tokens(client, page).values()))
    client.post(f"{page}/reply", data={"reply-csrf_token": token, "reply-text": "Kunt u meer vertellen?"})
    client.post(f"{page}/note", data={"note-csrf_token": token, "note-text": "Notitie voor het dossier"})

    bundle = tmp_path / "case.json"
    refused = cli.invoke(main, ["export-case", receipt.reference, "--user", "otto", "--out", str(bundle)])
    assert refused.exit_code != 0 and not bundle.exists() and outsider.id
    result = cli.invoke(main, ["export-case", receipt.reference, "--user", "anna", "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    raw = bundle.read_bytes()
    for plaintext in (b"declareert", b"Kunt u meer", b"Notitie", b"bewijs.pdf", b"PDF evidence"):
        assert plaintext not in raw
    key_file = tmp_path / "anna.key.json"
    exported = cli.invoke(main, ["user", "export-key", "anna", "--out", str(key_file)], input=anna.recovery_key + "\n")
    assert exported.exit_code == 0, exported.output
    recovery_file = tmp_path / "recovery.txt"
    recovery_file.write_text(anna.recovery_key)

    out = tmp_path / "opened"
    opened = subprocess.run(
        [sys.executable, "-m", "crypto.open", str(bundle), "--key-file", str(key_file), "--out", str(out),
         "--recovery-key-file", str(recovery_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert opened.returncode == 0, opened.stderr
    texts = {p.name: p.read_text() for p in out.glob("*.txt")}
    report = next(json.loads(t) for name, t in texts.items() if name.startswith("report-"))
    assert report["what"] == "De manager declareert privé-etentjes."
    assert "Kunt u meer vertellen?" in texts.values()
    assert "Notitie voor het dossier" in texts.values()
    files = {p.name: p.read_bytes() for p in (out / "files").iterdir()}
    assert files == {"bewijs.pdf": b"%PDF evidence bytes", "foto.jpg": b"\xff\xd8jpeg"}
