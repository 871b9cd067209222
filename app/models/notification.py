"""Pending notifications: flushed to handlers at fixed times, never at the moment of a reporter's action."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NO_ROWID, Base


class PendingNotification(Base):
    """"Something is waiting for user X" (reason is a code such as "new_case"); no case, no time."""

    __tablename__ = "pending_notification"
    __table_args__ = (NO_ROWID,)

    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
