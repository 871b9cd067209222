"""Messages in a case's two-way mailbox and the handlers' internal notes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NO_ROWID, Base, UTCDateTime, new_id

MESSAGE_KINDS = ("message", "acknowledgement", "feedback", "meeting_request", "identity_disclosed")


class Message(Base):
    """One message between reporter and handlers, sealed under the case key (kind "message", row id).

    `author_kind` is "reporter" or "handler"; reporter messages carry only a day. `kind` marks the
    messages that count for the clock (acknowledgement, feedback, meeting request).
    """

    __tablename__ = "message"
    __table_args__ = (NO_ROWID,)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    counter: Mapped[int] = mapped_column(Integer)
    author_kind: Mapped[str] = mapped_column(String(16))
    author_user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(24), default="message")
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[date] = mapped_column(Date)
    read_by_reporter: Mapped[bool] = mapped_column(default=False)


class Note(Base):
    """An internal note, sealed under the case key; visible only to the case's handlers."""

    __tablename__ = "note"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
