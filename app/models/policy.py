"""Deadline policies: data, not code (see LAW.md and app/services/clock.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id


class DeadlinePolicy(Base):
    """A named list of milestone rules, e.g. `wbk`: acknowledge within 7 days, feedback within 3 months.

    `rules` is a JSON list of dicts: {"milestone", "trigger", "days", "months", ...}; the clock service
    is the only reader. `shift_to_working_day` moves a due date on a weekend to the next Monday.
    """

    __tablename__ = "deadline_policy"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    shift_to_working_day: Mapped[bool] = mapped_column(Boolean, default=False)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
