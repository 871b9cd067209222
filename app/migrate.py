"""Alembic driven from code: `meldkluis db upgrade` and the tests use these, with the app's URL."""

from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from app.config import ROOT, private_sqlite_file


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    # ConfigParser interpolation: a literal % in a URL must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    private_sqlite_file(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this version of Meldkluis was written for."""


@functools.cache
def known_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(every revision this version ships, the head revisions): read once per process."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(rev.revision for rev in script.walk_revisions()), frozenset(script.get_heads())


def check_schema(engine: Engine) -> None:
    """Refuse to serve on a database this version does not know, in either direction.

    A newer database (a revision this version does not ship) would be read with the wrong columns; an
    older or empty one lacks what the code expects. Migrations run before the app starts
    (`meldkluis db upgrade`, the Compose entrypoint, systemd's ExecStartPre), so both are operator errors.
    """
    from alembic.migration import MigrationContext

    known, heads = known_revisions()
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return
    unknown = sorted(current - known)
    if unknown:
        raise SchemaMismatch(
            f"the database is at schema revision {', '.join(unknown)}, which this version of Meldkluis does not "
            "know (it was migrated by a newer version): refusing to start; run the newer version, or restore "
            "a backup made by this one"
        )
    found = ", ".join(sorted(current)) or "none (empty database)"
    raise SchemaMismatch(
        f"the database is at schema revision {found}, older than this version of Meldkluis "
        f"({', '.join(sorted(heads))}): refusing to start; run `meldkluis db upgrade` first"
    )
