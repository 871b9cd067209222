"""The organisation that runs this Meldkluis: its name, texts and confidential adviser."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Organisation(Base):
    """A single row (id 1) of texts an admin edits; shipped with defaults by `meldkluis db upgrade`."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    intro_nl: Mapped[str] = mapped_column(Text, default="")
    intro_en: Mapped[str] = mapped_column(Text, default="")
    adviser_name: Mapped[str] = mapped_column(String(200), default="")
    adviser_contact_nl: Mapped[str] = mapped_column(Text, default="")
    adviser_contact_en: Mapped[str] = mapped_column(Text, default="")
