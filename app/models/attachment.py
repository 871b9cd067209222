"""Attachments: the encrypted file lives in the storage folder under a random name."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NO_ROWID, Base, new_id


class Attachment(Base):
    """A file: its name sealed under the case key, its per-file key and real size sealed under it too.

    No column holds the plaintext size: the stored file is Padmé-padded, and the size is in the sealed key.
    """

    __tablename__ = "attachment"
    __table_args__ = (NO_ROWID,)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    author_kind: Mapped[str] = mapped_column(String(16))
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    file_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_on: Mapped[date] = mapped_column(Date)
