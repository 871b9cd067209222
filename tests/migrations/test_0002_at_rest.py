"""Revision 0002_at_rest: no plaintext size column, no exact session expiry, reporter tables WITHOUT ROWID."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from app import migrate
from app.services.maintenance import reporter_tables


def test_0002_drops_exact_values_and_keeps_data(scratch_database: str) -> None:
    url = scratch_database
    migrate.upgrade(url, "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO user_account (id, username, display_name, is_handler, is_compliance, "
                                "is_admin, active, failed_logins, created_at) VALUES ('u', 'u', 'U', true, false, "
                                "false, true, 0, '2026-01-01 00:00:00+00')"))
        # A row in a table that 0002 rebuilds on SQLite.
        connection.execute(text("INSERT INTO pending_notification (user_id, reason) VALUES ('u', 'new_case')"))
    migrate.upgrade(url, "0002_at_rest")
    columns = {table: {c["name"] for c in inspect(engine).get_columns(table)}
               for table in ("attachment", "reporter_session")}
    assert "size" not in columns["attachment"]
    assert "expires_at" not in columns["reporter_session"] and "seen_on" in columns["reporter_session"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT reason FROM pending_notification")).all() == [("new_case",)]
        if engine.dialect.name == "sqlite":
            present = set(inspect(engine).get_table_names())  # later revisions add reporter tables of their own
            for table in (name for name in reporter_tables() if name in present):
                sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
                assert sql is not None and sql.rstrip().endswith("WITHOUT ROWID"), table
    migrate.downgrade(url, "0001")
    assert "size" in {c["name"] for c in inspect(engine).get_columns("attachment")}
    engine.dispose()
