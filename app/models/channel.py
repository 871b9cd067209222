"""Channels: the ways in a reporter chooses between (melding, klacht, question to the adviser)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import stored_text
from app.models.base import Base, new_id
from app.models.policy import DeadlinePolicy


class Channel(Base):
    """One channel: its texts (NL/EN), categories, deadline policy, retention and default recipients.

    `categories` is a JSON list of {"slug", "nl", "en"}; a case stores the slug it was filed under. Pages in
    other languages show the catalogue's translation of the English text (app/i18n.py `stored_text`).
    `questions` is a JSON list of {"key", "required", "nl", "en"} (labels empty for a standard question, which
    keeps its translated label and hint), or None for the standard questions (app/services/submission.py).
    """

    __tablename__ = "channel"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # melding | klacht | vraag
    name_nl: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_nl: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    questions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("deadline_policy.id"))
    retention_months: Mapped[int] = mapped_column(Integer, default=12)
    acknowledgement_nl: Mapped[str] = mapped_column(Text, default="")
    acknowledgement_en: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    policy: Mapped[DeadlinePolicy] = relationship(lazy="joined")
    recipients: Mapped[list[ChannelRecipient]] = relationship(
        back_populates="channel", cascade="all, delete-orphan"
    )

    def name(self, lang: str) -> str:
        return stored_text(self.name_nl, self.name_en, lang)

    def description(self, lang: str) -> str:
        return stored_text(self.description_nl, self.description_en, lang)

    def category_name(self, slug: str, lang: str) -> str:
        for category in self.categories:
            if category["slug"] == slug:
                return stored_text(str(category["nl"]), str(category["en"]), lang)
        return slug

    def category_names(self, lang: str, *, without: str = "") -> list[str]:
        """The categories' names in `lang`, in their order (`without`: a slug to leave out)."""
        return [stored_text(str(c["nl"]), str(c["en"]), lang) for c in self.categories if c["slug"] != without]

    def acknowledgement(self, lang: str) -> str:
        """The standard acknowledgement in `lang` (see `name`)."""
        return stored_text(self.acknowledgement_nl, self.acknowledgement_en, lang)


class ChannelRecipient(Base):
    """A handler who receives new cases of a channel by default."""

    __tablename__ = "channel_recipient"

    channel_id: Mapped[str] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)

    channel: Mapped[Channel] = relationship(back_populates="recipients")
