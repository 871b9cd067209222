"""Declarative base, naming convention and id helpers shared by every model."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


NO_ROWID: dict[str, bool] = {"sqlite_with_rowid": False}
"""Table option for every table a reporter's action writes: on SQLite a WITHOUT ROWID table is stored in the
order of its random primary key, not in insertion order, so a copy of the database file cannot set reporter
rows against the timestamped audit rows. (PostgreSQL ignores it; `meldkluis maintenance` reorders there.)"""


def new_id() -> str:
    """Random 128-bit id: rows must not reveal their order or count."""
    return secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The day, for times that a reporter's action creates (never a finer time)."""
    return datetime.now(UTC).date()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
