"""The database password comes from a file (Compose/systemd secret) and survives any character in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.config import Settings


def test_password_file_is_put_into_the_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("p%s@:/x y\n")
    monkeypatch.setenv("MELDKLUIS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://meldkluis@db/meldkluis")
    monkeypatch.setenv("MELDKLUIS_DATABASE_PASSWORD_FILE", str(secret))
    url = make_url(Settings.from_environment().database_url)
    assert (url.drivername, url.username, url.password, url.host, url.database) == (
        "postgresql+psycopg", "meldkluis", "p%s@:/x y", "db", "meldkluis")
