"""Creating and retiring channels (admin). A channel with cases is never deleted: it is retired, so its
cases, register rows and figures keep their channel; a retired channel is no longer offered to reporters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Case, Channel, DeadlinePolicy
from app.services.submission import CUSTOM_PREFIX, QUESTIONS, STANDARD_KEYS

KINDS = ("melding", "klacht", "vraag")
_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
_QUESTION_KEY = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
MAX_QUESTIONS = 20
REQUIRED_WORDS = {"required": True, "verplicht": True, "optional": False, "optioneel": False}
# The form's starting text: today's standard questions, so an admin removes or adds lines rather than typing.
STANDARD_QUESTIONS_TEXT = "\n".join(
    f"{q.key} | {'required' if q.required else 'optional'}" for q in QUESTIONS
)


class ChannelRefused(ValueError):
    """The channel cannot be saved or removed; `problems` are messages in the admin's language."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("channel refused")
        self.problems = problems


@dataclass(frozen=True)
class NewChannel:
    slug: str
    kind: str
    name_nl: str
    name_en: str
    description_nl: str
    description_en: str
    policy_slug: str
    categories_text: str  # one category a line: "slug | Dutch name | English name"
    questions_text: str = STANDARD_QUESTIONS_TEXT  # one question a line, see parse_questions


def parse_questions(text: str) -> tuple[list[dict[str, object]], list[str]]:
    """The report form's questions from lines "key | required or optional [| Dutch label | English label]".

    A standard key (what, when, where, who, how_known, ongoing, evidence) keeps its translated label and hint;
    any other key is a new question (a text box) and needs both labels. Returns the questions in the order
    given and the problems found; at least one question must be required, so no report can be empty.
    """
    questions: list[dict[str, object]] = []
    problems: list[str] = []
    for number, line in enumerate((line for line in text.splitlines() if line.strip()), start=1):
        parts = [part.strip() for part in line.split("|")]
        key = parts[0].lower()
        required = REQUIRED_WORDS.get(parts[1].lower()) if len(parts) > 1 else False
        standard = key in STANDARD_KEYS
        labels_ok = (standard and len(parts) <= 2) or (len(parts) == 4 and parts[2] and parts[3])
        if not _QUESTION_KEY.match(key) or required is None or not labels_ok:
            problems.append(str(_l("Question line %(number)s: write \"key | required or optional\" for a standard "
                                   "question, or \"key | required or optional | Dutch question | English "
                                   "question\" for a new one.", number=number)))
            continue
        stored = key if standard else CUSTOM_PREFIX + key
        if any(q["key"] == stored for q in questions):
            problems.append(str(_l("Question line %(number)s: the key appears twice.", number=number)))
            continue
        questions.append({"key": stored, "required": required, "nl": "" if standard else parts[2],
                          "en": "" if standard else parts[3]})
    if len(questions) > MAX_QUESTIONS:
        problems.append(str(_l("Ask at most %(n)s questions.", n=MAX_QUESTIONS)))
    if not problems and not any(q["required"] for q in questions):
        problems.append(str(_l("Make at least one question required, so that no report arrives empty.")))
    return questions, problems


def parse_categories(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Categories from lines "slug | Dutch | English"; returns them and the problems found."""
    categories: list[dict[str, str]] = []
    problems: list[str] = []
    for number, line in enumerate((line for line in text.splitlines() if line.strip()), start=1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 3 or not _SLUG.match(parts[0]) or not parts[1] or not parts[2]:
            problems.append(str(_l("Category line %(number)s: write \"slug | Dutch name | English name\".",
                                   number=number)))
            continue
        if any(c["slug"] == parts[0] for c in categories):
            problems.append(str(_l("Category line %(number)s: the slug appears twice.", number=number)))
            continue
        categories.append({"slug": parts[0], "nl": parts[1], "en": parts[2]})
    if not categories and not problems:
        problems.append(str(_l("Give at least one category.")))
    return categories, problems


def create_channel(session: Session, user_id: str | None, data: NewChannel) -> Channel:
    """A new, active channel at the end of the list (reporters see it once it has a reader)."""
    problems: list[str] = []
    if not _SLUG.match(data.slug):
        problems.append(str(_l("The short name needs 2 to 40 lower-case letters, digits or hyphens.")))
    elif session.scalar(select(Channel.id).where(Channel.slug == data.slug)) is not None:
        problems.append(str(_l("This short name is already taken.")))
    if data.kind not in KINDS:
        problems.append(str(_l("Choose what reporters send on this channel.")))
    if not data.name_nl.strip() or not data.name_en.strip():
        problems.append(str(_l("Give the channel a name in Dutch and in English.")))
    policy = session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.slug == data.policy_slug))
    if policy is None:
        problems.append(str(_l("Choose a deadline policy.")))
    categories, category_problems = parse_categories(data.categories_text)
    problems += category_problems
    questions, question_problems = parse_questions(data.questions_text)
    problems += question_problems
    if problems or policy is None:
        raise ChannelRefused(problems)
    position = (session.scalar(select(func.max(Channel.position))) or 0) + 1
    channel = Channel(slug=data.slug, kind=data.kind, name_nl=data.name_nl.strip(), name_en=data.name_en.strip(),
                      description_nl=data.description_nl.strip(), description_en=data.description_en.strip(),
                      categories=categories, questions=questions, policy_id=policy.id, policy=policy, position=position, active=True)
    session.add(channel)
    session.add(AuditEvent(user_id=user_id, action="channel_created", detail=data.slug))
    session.flush()
    return channel


def set_active(session: Session, user_id: str | None, channel: Channel, active: bool) -> None:
    """Retire a channel (no new reports; its cases stay) or bring it back."""
    channel.active = active
    session.add(AuditEvent(user_id=user_id, action="channel_reactivated" if active else "channel_retired",
                           detail=channel.slug))
    session.flush()


def delete_channel(session: Session, user_id: str | None, channel: Channel) -> None:
    """Only a channel that never had a case can be deleted; otherwise retire it."""
    if session.scalar(select(Case.id).where(Case.channel_id == channel.id).limit(1)) is not None:
        raise ChannelRefused([str(_l("This channel has cases, so it cannot be deleted. Retire it instead."))])
    session.add(AuditEvent(user_id=user_id, action="channel_deleted", detail=channel.slug))
    session.delete(channel)
    session.flush()
