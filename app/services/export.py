"""Offline export of one case: an encrypted bundle that opens with `python -m crypto.open` only.

The server decrypts nothing here: it copies the handler's sealed case key and the stored ciphertexts
(texts, sealed names and file keys, encrypted files). Only the handler's private key file and recovery
key open the bundle, on a machine without the server or its database.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from app.config import Settings
from app.models import Attachment, AuditEvent, Case, Message, Note, Participant, User
from app.services import cases, storage


class ExportRefused(LookupError):
    """No such case, no such user, or the user holds no key for the case."""


def export_case(session: Session, settings: Settings, reference: str, username: str) -> bytes:
    """The bundle of a case for one of its handlers (audited)."""
    case = session.scalar(select(Case).where(Case.reference == reference, Case.purged_on.is_(None)))
    user = session.scalar(select(User).where(User.username == username))
    if case is None or user is None:
        raise ExportRefused(reference)
    participant = session.scalar(
        select(Participant).where(Participant.case_id == case.id, Participant.user_id == user.id)
    )
    if participant is None:
        raise ExportRefused(reference)
    texts: list[crypto.BundleText] = []
    if case.report_sealed is not None:
        texts.append(crypto.BundleText(cases.REPORT, case.id, case.report_sealed, cases.REPORTER_META))
    if case.identity_sealed is not None:
        texts.append(crypto.BundleText(cases.IDENTITY, case.id, case.identity_sealed, cases.REPORTER_META))
    for message in session.scalars(select(Message).where(Message.case_id == case.id).order_by(Message.counter)):
        texts.append(crypto.BundleText(cases.MESSAGE, message.id, message.body_sealed,
                                       cases.message_meta(message)))
    for note in session.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.created_at)):
        texts.append(crypto.BundleText(cases.NOTE, note.id, note.body_sealed, cases.NOTE_META))
    files = [
        crypto.BundleFile(
            row_id=attachment.id,
            name_sealed=attachment.name_sealed,
            file_key_sealed=attachment.file_key_sealed,
            binding=storage.file_binding(case.id, attachment.id),
            data=storage.storage_path(settings.storage_path, attachment.storage_key).read_bytes(),
            meta=cases.attachment_meta(attachment),
        )
        for attachment in session.scalars(select(Attachment).where(Attachment.case_id == case.id))
    ]
    session.add(AuditEvent(user_id=user.id, case_id=case.id, action="case_exported"))
    return crypto.write_bundle(case.id, participant.sealed_case_key, texts, files)
