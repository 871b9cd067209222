"""crypto/ is usable alone (the offline opener runs on an air-gapped machine without the web stack)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_crypto_loads_no_web_or_database_module() -> None:
    code = (
        "import sys, crypto, crypto.open, crypto.bundle\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'werkzeug', 'app', 'alembic', 'jinja2'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_crypto_sources_import_nothing_from_app() -> None:
    for source in (ROOT / "crypto").glob("*.py"):
        text = source.read_text()
        assert "from app" not in text and "import app" not in text and "flask" not in text.lower(), source
