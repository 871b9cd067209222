"""Offline export of one case: an encrypted bundle that opens with `python -m crypto.open` only.

The server decrypts nothing here: it copies the handler's sealed case key and the stored ciphertexts
(texts, sealed names and file keys, encrypted files). Only the handler's private key file and recovery
key open the bundle, on a machine without the server or its database.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from app.config import Settings
from app.models import Attachment, AuditEvent, Case, Message, Note, Participant, User
from app.services import cases, storage
from app.services.submission import ONGOING_CHOICES, Question, channel_questions

LANGUAGES = ("nl", "en")


class ExportRefused(LookupError):
    """No such case, no such user, or the user holds no key for the case."""


def readable_labels(reference: str, questions: tuple[Question, ...], lang: str) -> dict[str, str]:
    """The words of the offline case file in `lang` (the offline tool has no translations): the channel's
    question labels in the form's order, coded answers in words, headings, authors and message kinds."""
    from app.web.handler import KIND_LABELS  # the case page's words for message kinds

    with force_locale(lang):
        labels = {
            "reference": reference, "title": str(_l("Case")), "heading.report": str(_l("Report")),
            "heading.identity": str(_l("Identity")),
            "heading.thread": str(_l("Mailbox with the reporter")), "heading.notes": str(_l("Internal notes")),
            "heading.files": str(_l("Files")),
            "author.reporter": str(_l("Reporter")), "author.handler": str(_l("Handler")),
            "file.report": str(_l("with the report")), "file.message": str(_l("with message")),
            "none": str(_l("(none)")), "bytes": str(_l("bytes")),
        }
        labels |= {f"question.{q.key}": str(q.label) for q in questions}
        labels |= {f"choice.ongoing.{code}": str(word) for code, word in ONGOING_CHOICES}
        labels |= {f"kind.{kind}": str(word) for kind, word in KIND_LABELS.items()}
    return labels


def export_case(session: Session, settings: Settings, reference: str, username: str, lang: str = "nl") -> bytes:
    """The bundle of a case for one of its handlers (audited), its readable words in `lang` ("nl" or "en")."""
    case = session.scalar(select(Case).where(Case.reference == reference, Case.purged_on.is_(None)))
    user = session.scalar(select(User).where(User.username == username))
    if case is None or user is None:
        raise ExportRefused(reference)
    participant = session.scalar(
        select(Participant).where(Participant.case_id == case.id, Participant.user_id == user.id)
    )
    if participant is None:
        raise ExportRefused(reference)
    names = {u.id: u.display_name for u in session.scalars(select(User))}
    texts: list[crypto.BundleText] = []
    if case.report_sealed is not None:
        texts.append(crypto.BundleText(cases.REPORT, case.id, case.report_sealed, cases.REPORTER_META,
                                       day=case.received_on.isoformat()))
    if case.identity_sealed is not None:
        texts.append(crypto.BundleText(cases.IDENTITY, case.id, case.identity_sealed, cases.REPORTER_META))
    for message in session.scalars(select(Message).where(Message.case_id == case.id).order_by(Message.counter)):
        texts.append(crypto.BundleText(cases.MESSAGE, message.id, message.body_sealed,
                                       cases.message_meta(message), day=message.created_on.isoformat(),
                                       author=names.get(message.author_user_id, "")))
    for note in session.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.created_at)):
        texts.append(crypto.BundleText(cases.NOTE, note.id, note.body_sealed, cases.NOTE_META,
                                       day=note.created_at.date().isoformat(),
                                       author=names.get(note.author_user_id, "")))
    files = [
        crypto.BundleFile(
            row_id=attachment.id,
            name_sealed=attachment.name_sealed,
            file_key_sealed=attachment.file_key_sealed,
            binding=storage.file_binding(case.id, attachment.id),
            data=storage.storage_path(settings.storage_path, attachment.storage_key).read_bytes(),
            meta=cases.attachment_meta(attachment),
            day=attachment.created_on.isoformat(),
        )
        for attachment in session.scalars(select(Attachment).where(Attachment.case_id == case.id))
    ]
    session.add(AuditEvent(user_id=user.id, case_id=case.id, action="case_exported"))
    labels = readable_labels(case.reference, channel_questions(case.channel), lang if lang in LANGUAGES else "nl")
    return crypto.write_bundle(case.id, participant.sealed_case_key, texts, files, labels)
