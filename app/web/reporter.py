"""Reporter pages: start, route map, submission, receipt, mailbox. No cookie before the mailbox login.

The submit and reply forms carry files, so their bodies are read by app/services/upload.py (encrypting
each file as it arrives); `request.form`/`request.files` are never touched there, because Werkzeug
would spool a large upload to a plaintext temporary file.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.config import Settings
from app.db import get_session
from app.forms import BaseForm
from app.models import Organisation
from app.services import mailbox as mailboxes
from app.services import storage, submission
from app.services.limits import Busy, limits_of
from app.services.storage import AttachmentWriter
from app.services.submission import QUESTIONS, ReportInput, SubmissionError
from app.services.upload import ParsedForm, UploadLimits, parse_form
from app.web import file_response

bp = Blueprint("reporter", __name__)

MAILBOX_ENDPOINTS = frozenset({
    "reporter.mailbox", "reporter.reply", "reporter.meeting", "reporter.identity", "reporter.download",
    "reporter.logout",
})

EXTERNAL_CHANNELS: tuple[tuple[str, object, str], ...] = (
    ("Huis voor Klokkenluiders", _l("Advice, and investigation of wrongdoing and of how an employer treated a "
                                    "reporter."), "https://www.huisvoorklokkenluiders.nl"),
    ("Autoriteit Consument & Markt (ACM)", _l("Competition, consumers, energy and telecoms."), "https://www.acm.nl"),
    ("Autoriteit Financiële Markten (AFM)", _l("Financial markets and financial services."), "https://www.afm.nl"),
    ("Autoriteit Nucleaire Veiligheid en Stralingsbescherming (ANVS)", _l("Nuclear safety and radiation "
                                                                           "protection."), "https://www.autoriteitnvs.nl"),
    ("Autoriteit Persoonsgegevens (AP)", _l("Personal data and privacy."), "https://www.autoriteitpersoonsgegevens.nl"),
    ("De Nederlandsche Bank (DNB)", _l("Banks, insurers, pension funds, money laundering."), "https://www.dnb.nl"),
    ("Inspectie Gezondheidszorg en Jeugd (IGJ)", _l("Health care and youth care."), "https://www.igj.nl"),
    ("Nederlandse Voedsel- en Warenautoriteit (NVWA)", _l("Food, consumer products, animal welfare."),
     "https://www.nvwa.nl"),
    ("Nederlandse Zorgautoriteit (NZa)", _l("Health care markets and funding."), "https://www.nza.nl"),
)
BELGIAN_CHANNELS: tuple[tuple[str, object, str], ...] = (
    ("Federale Ombudsman", _l("Federal coordinator for external reports in Belgium."), "https://www.federaalombudsman.be"),
    ("Audit Vlaanderen", _l("Flemish municipalities, OCMWs and their agencies."), "https://www.auditvlaanderen.be"),
    ("Vlaamse Ombudsdienst", _l("Flemish government bodies."), "https://www.vlaamseombudsdienst.be"),
)
BUSY_TEXT = _l("Many reports are arriving at the moment, so we cannot take yours right now. Please send it "
               "again in a few minutes.")
STATUS_LABELS = {
    "new": _l("Received"),
    "acknowledged": _l("Receipt confirmed"),
    "in_progress": _l("Being looked into"),
    "feedback_given": _l("Feedback given"),
    "closed": _l("Closed"),
}
KIND_LABELS = {
    "acknowledgement": _l("Confirmation of receipt"),
    "feedback": _l("Feedback"),
    "meeting_request": _l("Request for a meeting"),
    "identity_disclosed": _l("Identity shared"),
}


# --- forms -------------------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubmitForm(BaseForm):
    """The report. Lengths and choices are checked by the service, so errors come in one place."""

    category = RadioField(_l("Subject"), choices=[], validate_choice=False)
    what = TextAreaField(QUESTIONS[0].label)
    when = TextAreaField(QUESTIONS[1].label, render_kw={"rows": 2})
    where = TextAreaField(QUESTIONS[2].label, render_kw={"rows": 2})
    who = TextAreaField(QUESTIONS[3].label, render_kw={"rows": 3})
    how_known = TextAreaField(QUESTIONS[4].label, render_kw={"rows": 3})
    ongoing = RadioField(QUESTIONS[5].label, choices=[SelectChoice(c, label) for c, label in submission.ONGOING_CHOICES],
                         validate_choice=False)
    evidence = TextAreaField(QUESTIONS[6].label, render_kw={"rows": 3})
    recipients = MultiCheckboxField(_l("Who receives your report"), choices=[], validate_choice=False)
    identity = TextAreaField(_l("Your name and how to reach you (optional)"), render_kw={"rows": 2})


class LoginForm(BaseForm):
    receipt_code = StringField(_l("Receipt code"), validators=[Length(max=64)],
                               render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    passphrase = StringField(_l("Passphrase"), validators=[Length(max=1024)],
                             render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})


class ReplyForm(BaseForm):
    body = TextAreaField(_l("Your message"))


class MeetingForm(BaseForm):
    way = RadioField(_l("How would you like to talk?"), choices=[
        SelectChoice("in_person", _l("In person")), SelectChoice("phone", _l("By phone"))], validate_choice=False)
    note = TextAreaField(_l("When suits you, or anything else we should know (optional)"), render_kw={"rows": 2})


class IdentityForm(BaseForm):
    identity = TextAreaField(_l("Your name and how to reach you"), render_kw={"rows": 2})


class LogoutForm(BaseForm):
    pass


# --- helpers -----------------------------------------------------------------------------------------


def _settings() -> Settings:
    settings: Settings = current_app.config["MELDKLUIS"]
    return settings


def _upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(settings.max_files, settings.max_file_bytes, settings.max_text_chars * 4 + 64)


def _parse_with_files(begin_file: Callable[[], AttachmentWriter]) -> ParsedForm:
    """Read the request body ourselves: files are encrypted by `begin_file()` writers as they stream in."""
    return parse_form(request.stream, request.headers.get("Content-Type", ""), limits=_upload_limits(_settings()),
                      begin_file=begin_file, file_fields=frozenset({"files"}))


def _owned_by_request(batch: storage.FileBatch) -> storage.FileBatch:
    """The request owns the files it writes: whatever way it ends, uncommitted ones are removed."""
    g.setdefault("file_batches", []).append(batch)
    return batch


@bp.teardown_request
def _discard_uncommitted_files(_error: BaseException | None) -> None:
    for batch in g.pop("file_batches", []):
        batch.discard()


def _require_csrf(form: BaseForm, parsed: ParsedForm | None = None) -> None:
    if not form.validate() and form.csrf_token.errors:
        if parsed is not None:
            parsed.discard_files()
        abort(400)


def _attach_errors(form: BaseForm, errors: dict[str, list[str]]) -> list[str]:
    """Put service errors next to their fields (files: `g.file_errors`); returns those of no field."""
    general: list[str] = []
    for name, messages in errors.items():
        if name == "files":
            g.file_errors = messages
        elif name in form._fields and name != "csrf_token":
            form[name].errors = list(form[name].errors) + messages
        else:
            general.extend(messages)
    return general


def _organisation() -> Organisation | None:
    return get_session().get(Organisation, 1)


# --- public pages ------------------------------------------------------------------------------------


@bp.get("/")
def start() -> str:
    return render_template("reporter/start.html", organisation=_organisation())


@bp.get("/routekaart")
def route_map() -> str:
    return render_template("reporter/route_map.html", organisation=_organisation(),
                           channels=submission.active_channels(get_session()),
                           external_channels=EXTERNAL_CHANNELS, belgian_channels=BELGIAN_CHANNELS)


@bp.get("/melden")
def choose_channel() -> str:
    return render_template("reporter/choose_channel.html", channels=submission.active_channels(get_session()))


def _channel_or_404(slug: str) -> submission.ReportChannel:
    found = submission.find_report_channel(get_session(), slug)
    if found is None:
        abort(404)
    return found


def _render_submit(found: submission.ReportChannel, form: SubmitForm, *, general: list[str] | None = None,
                   files_lost: bool = False, status: int = 200) -> tuple[str, int]:
    lang = g.get("lang", "nl")
    channel = found.channel
    form.category.choices = [SelectChoice(c["slug"], c["en" if lang == "en" else "nl"]) for c in channel.categories]
    recipients = found.recipient_choices()
    form.recipients.choices = [SelectChoice(r.user_id, r.display_name) for r in recipients]
    if request.method == "GET":
        form.recipients.data = [r.user_id for r in recipients]
    settings = _settings()
    return render_template(
        "reporter/submit.html", channel=channel, form=form, questions=QUESTIONS, general_errors=general or [],
        files_lost=files_lost, max_files=settings.max_files,
        max_file_mb=max(1, settings.max_file_bytes // (1024 * 1024)), max_chars=settings.max_text_chars,
    ), status


@bp.get("/melden/<slug>")
def submit_form(slug: str) -> tuple[str, int]:
    return _render_submit(_channel_or_404(slug), SubmitForm())


@bp.post("/melden/<slug>")
def submit(slug: str) -> tuple[str, int]:
    settings = _settings()
    draft = submission.CaseDraft.start(settings)
    _owned_by_request(draft.batch)
    parsed = _parse_with_files(draft.begin_file)
    # Looked up once the body is in: the report goes to the recipients of the moment it arrives, and no
    # database transaction stays open while files stream in.
    found = submission.find_report_channel(get_session(), slug)
    if found is None:
        parsed.discard_files()
        abort(404)
    channel = found.channel
    form = SubmitForm(formdata=parsed.fields)
    _require_csrf(form, parsed)
    if parsed.errors:
        parsed.discard_files()
        general = _attach_errors(form, parsed.errors)
        return _render_submit(found, form, general=general, files_lost=True,
                              status=413 if parsed.file_too_large else 503 if parsed.no_room else 400)
    draft.files.extend(parsed.files)
    report = ReportInput(
        channel_slug=channel.slug,
        category=form.category.data or "",
        fields={q.key: parsed.fields.get(q.key, "") for q in QUESTIONS},
        recipient_ids=list(parsed.fields.getlist("recipients")),
        identity=parsed.fields.get("identity") or None,
    )
    try:
        receipt = submission.finish_report(get_session(), settings, draft, report, found=found,
                                           limits=limits_of())
    except SubmissionError as error:
        general = _attach_errors(form, error.errors)
        return _render_submit(found, form, general=general, files_lost=bool(parsed.files), status=400)
    except Busy:
        return _render_submit(found, form, general=[str(BUSY_TEXT)], files_lost=bool(parsed.files), status=503)
    return render_template("reporter/receipt.html", receipt=receipt, channel=channel), 200


# --- mailbox -----------------------------------------------------------------------------------------


@bp.before_request
def load_mailbox() -> Response | None:
    if request.endpoint not in MAILBOX_ENDPOINTS:
        return None
    cookie = request.cookies.get(mailboxes.COOKIE_NAME, "")
    mailbox = mailboxes.resume(get_session(), _settings(), cookie) if cookie else None
    if mailbox is None:
        response = redirect(url_for("reporter.login", expired=1 if cookie else None))
        if cookie:
            response.delete_cookie(mailboxes.COOKIE_NAME, path="/")
        return response
    g.mailbox = mailbox
    g.csrf_binding = mailbox.session_id
    return None


def _set_mailbox_cookie(response: Response, value: str) -> None:
    response.set_cookie(mailboxes.COOKIE_NAME, value, httponly=True, samesite="Strict",
                        secure=_settings().secure_cookies, path="/")


@bp.after_request
def slide_mailbox_cookie(response: Response) -> Response:
    """Every mailbox response carries the cookie with the idle deadline moved on (it is in no database row)."""
    mailbox = g.get("mailbox")
    if mailbox is not None and request.endpoint != "reporter.logout":
        _set_mailbox_cookie(response, mailbox.cookie_value)
    return response


@bp.route("/brievenbus/inloggen", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    form = LoginForm()
    failed = False
    if request.method == "POST":
        _require_csrf(form)
        try:
            result = mailboxes.login(get_session(), _settings(), form.receipt_code.data or "",
                                     form.passphrase.data or "", limits=limits_of())
        except mailboxes.LoginFailed:
            failed = True
            # Shown empty again: what was typed never comes back in a page (nor a 1 MB "passphrase").
            form = LoginForm(formdata=None)
        else:
            response = redirect(url_for("reporter.mailbox"), code=303)
            _set_mailbox_cookie(response, result.cookie_value)
            return response
    return render_template("reporter/login.html", form=form, failed=failed,
                           expired=request.args.get("expired") == "1",
                           logged_out=request.args.get("logged_out") == "1"), 401 if failed else 200


def _render_mailbox(*, reply: ReplyForm | None = None, meeting: MeetingForm | None = None,
                    identity: IdentityForm | None = None, general: list[str] | None = None,
                    files_lost: bool = False, status: int = 200) -> tuple[str, int]:
    view = mailboxes.read_mailbox(get_session(), g.mailbox, g.get("lang", "nl"))
    settings = _settings()
    return render_template(
        "reporter/mailbox.html", view=view, questions=QUESTIONS, ongoing=dict(submission.ONGOING_CHOICES),
        status_label=STATUS_LABELS.get(view.status, view.status), kind_labels=KIND_LABELS,
        reply=reply or ReplyForm(formdata=None), meeting=meeting or MeetingForm(formdata=None),
        identity_form=identity or IdentityForm(formdata=None), logout_form=LogoutForm(formdata=None),
        general_errors=general or [], files_lost=files_lost, sent=request.args.get("sent"),
        max_files=settings.max_files, max_file_mb=max(1, settings.max_file_bytes // (1024 * 1024)),
    ), status


@bp.get("/brievenbus")
def mailbox() -> tuple[str, int]:
    return _render_mailbox()


@bp.post("/brievenbus/bericht")
def reply() -> Response | tuple[str, int]:
    settings = _settings()
    parsed = _parse_with_files(_owned_by_request(
        storage.FileBatch(settings.storage_path, g.mailbox.opened, settings.storage_reserve_bytes)).begin)
    form = ReplyForm(formdata=parsed.fields)
    _require_csrf(form, parsed)
    if parsed.errors:
        parsed.discard_files()
        general = _attach_errors(form, parsed.errors)
        return _render_mailbox(reply=form, general=general, files_lost=True,
                               status=413 if parsed.file_too_large else 503 if parsed.no_room else 400)
    try:
        mailboxes.post_reply(get_session(), settings, g.mailbox, parsed.fields.get("body", ""), parsed.files)
    except mailboxes.MailboxError as error:
        general = _attach_errors(form, error.errors)
        return _render_mailbox(reply=form, general=general, files_lost=bool(parsed.files), status=400)
    return redirect(url_for("reporter.mailbox", sent="message", _anchor="thread"), code=303)


@bp.post("/brievenbus/gesprek")
def meeting() -> Response | tuple[str, int]:
    form = MeetingForm()
    _require_csrf(form)
    try:
        mailboxes.request_meeting(get_session(), _settings(), g.mailbox, form.way.data or "", form.note.data or "")
    except mailboxes.MailboxError as error:
        general = _attach_errors(form, error.errors)
        return _render_mailbox(meeting=form, general=general, status=400)
    return redirect(url_for("reporter.mailbox", sent="meeting", _anchor="thread"), code=303)


@bp.post("/brievenbus/identiteit")
def identity() -> Response | tuple[str, int]:
    form = IdentityForm()
    _require_csrf(form)
    try:
        mailboxes.disclose_identity(get_session(), _settings(), g.mailbox, form.identity.data or "")
    except mailboxes.MailboxError as error:
        general = _attach_errors(form, error.errors)
        return _render_mailbox(identity=form, general=general, status=400)
    return redirect(url_for("reporter.mailbox", sent="identity", _anchor="thread"), code=303)


@bp.get("/brievenbus/bijlage/<attachment_id>")
def download(attachment_id: str) -> Response:
    file = mailboxes.download(get_session(), _settings(), g.mailbox, attachment_id)
    if file is None:
        abort(404)
    return file_response(file.chunks, file.size, file.content_disposition)


@bp.post("/brievenbus/uitloggen")
def logout() -> Response:
    form = LogoutForm()
    _require_csrf(form)
    mailboxes.logout(get_session(), g.mailbox.session_id)
    response = redirect(url_for("reporter.login", logged_out=1), code=303)
    response.delete_cookie(mailboxes.COOKIE_NAME, path="/", httponly=True, samesite="Strict",
                           secure=_settings().secure_cookies)
    return response
