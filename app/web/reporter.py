"""Reporter pages: start, route map, submission, receipt, mailbox. No cookie before the mailbox login.

The submit and reply forms carry files, so their bodies are read by app/services/upload.py (encrypting
each file as it arrives); `request.form`/`request.files` are never touched there, because Werkzeug
would spool a large upload to a plaintext temporary file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

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
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.config import Settings
from app.db import get_session
from app.forms import BaseForm
from app.i18n import stored_text
from app.models import Channel, Organisation
from app.services import mailbox as mailboxes
from app.services import scrub, storage, submission
from app.services.limits import Busy, limits_of
from app.services.storage import AttachmentWriter
from app.services.submission import QUESTIONS, ReportInput, SubmissionError
from app.services.upload import ParsedForm, UploadLimits, parse_form
from app.web import file_response

bp = Blueprint("reporter", __name__)
# Words for the sealed note on what was removed from a file (mailbox and the handler's case page).
bp.add_app_template_filter(scrub.describe, "hidden_data")
bp.add_app_template_filter(lambda note: scrub.describe(note, for_staff=True), "hidden_data_staff")

MAILBOX_ENDPOINTS = frozenset({
    "reporter.mailbox", "reporter.reply", "reporter.meeting", "reporter.identity", "reporter.download",
    "reporter.logout",
})
# The text box of each mailbox form: what comes back on the login page when the session ended meanwhile.
UNSENT_FIELDS = {"reporter.reply": "body", "reporter.meeting": "note", "reporter.identity": "identity"}

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
@dataclass(frozen=True)
class RouteQuestion:
    """One question of the route map: a "yes" leads to exactly one channel."""

    channel_slug: str
    question: object
    explanation: object
    wbk: bool = False  # the Whistleblower Protection Act protects a report on this channel (said only there)


# Read in order; the first "yes" is the way. Plain words (B1); hard words are explained in GLOSSARY.
ROUTE_QUESTIONS: tuple[RouteQuestion, ...] = (
    RouteQuestion("vertrouwenspersoon", _l("Do you want to talk to someone in confidence first?"),
                  _l("You are not sure yet, or you want advice before you decide anything. Nothing happens "
                     "without your consent.")),
    RouteQuestion("omgangsvormen", _l("Is it about how someone treats you?"),
                  _l("Someone threatens you, bullies you, touches you or says things to you that you do not want, "
                     "or treats you differently because of who you are.")),
    RouteQuestion("misstand", _l("Does it harm society?"),
                  _l("Many people can be harmed, or the law is broken: for example danger to health, safety or the "
                     "environment, or fraud with public money."), wbk=True),
    RouteQuestion("integriteit", _l("Does someone break the rules of the organisation?"),
                  _l("For example fraud, theft, accepting gifts or passing on secret information, and the harm "
                     "stays mostly inside the organisation.")),
)
# (term, the Dutch word the organisation's documents use, one-sentence explanation)
GLOSSARY: tuple[tuple[object, str, object], ...] = (
    (_l("Wrongdoing"), "misstand", _l("Something that harms society, such as breaking the law or a danger to "
                                      "health, safety or the environment.")),
    (_l("Integrity violation"), "integriteitsschending", _l("Someone breaks the rules of the organisation, for "
                                                           "example by fraud or by accepting gifts.")),
    (_l("Unwanted behaviour"), "ongewenste omgangsvormen", _l("The way someone treats you crosses your limits: "
                                                             "harassment, threats, bullying or discrimination.")),
    (_l("Confidential adviser"), "vertrouwenspersoon", _l("A person who listens, keeps what you say to themself "
                                                         "and helps you choose what to do next.")),
    (_l("Whistleblower Protection Act (Wbk)"), "Wet bescherming klokkenluiders",
     _l("A Dutch law: your employer may not harm you because you reported wrongdoing, if you had good reasons "
        "to think it was true.")),
    (_l("Public interest"), "maatschappelijk belang", _l("What matters for many people, not only for you or your "
                                                         "organisation.")),
)
FORM_NOT_VERIFIED = _l("This form could not be verified. Everything you typed is still here: please press Send "
                       "again.")
MAILBOX_FORM_NOT_VERIFIED = _l("This form could not be verified, so nothing was stored. Your text is still in "
                               "its box: please send it again.")
STORAGE_FAILED = _l("Your report could not be stored because of a problem on our side. Nothing was saved. "
                    "Everything you typed is still here: please press Send again in a few minutes.")
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
    "channel_moved": _l("Handled in another procedure"),
    "deadline_extended": _l("New date"),
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


def submit_form_class(channel: Channel) -> type[SubmitForm]:
    """The report form of a channel: the standard fields, plus a text box for each question of its own."""
    extra = {q.key: TextAreaField(q.label, render_kw={"rows": 3})
             for q in submission.channel_questions(channel) if q.key not in submission.STANDARD_KEYS}
    return type("ChannelSubmitForm", (SubmitForm,), extra) if extra else SubmitForm


class LoginForm(BaseForm):
    receipt_code = StringField(_l("Receipt code"), validators=[Length(max=64)],
                               render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                          "dir": "ltr"})
    passphrase = StringField(_l("Passphrase"), validators=[Length(max=1024)],
                             render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
                                         "dir": "ltr"})
    # A text typed in the mailbox whose sending found the session ended: carried through the login (only in
    # the page and the form, never stored) and put back in its box afterwards.
    unsent = TextAreaField(_l("Your text that was not sent"), render_kw={"rows": 6, "dir": "auto"})
    unsent_kind = HiddenField()


class ReplyForm(BaseForm):
    body = TextAreaField(_l("Your message"), render_kw={"dir": "auto"})


class MeetingForm(BaseForm):
    way = RadioField(_l("How would you like to talk?"), choices=[
        SelectChoice("in_person", _l("In person")), SelectChoice("phone", _l("By phone"))], validate_choice=False)
    note = TextAreaField(_l("When suits you, or anything else we should know (optional)"),
                         render_kw={"rows": 2, "dir": "auto"})


class IdentityForm(BaseForm):
    identity = TextAreaField(_l("Your name and how to reach you"), render_kw={"rows": 2, "dir": "auto"})


class LogoutForm(BaseForm):
    pass


# --- helpers -----------------------------------------------------------------------------------------


def _settings() -> Settings:
    settings: Settings = current_app.config["MELDKLUIS"]
    return settings


def _upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(settings.max_files, settings.max_file_bytes, settings.max_text_chars * 4 + 64)


def _parse_with_files(begin_file: Callable[[], AttachmentWriter], into: ParsedForm | None = None) -> ParsedForm:
    """Read the request body ourselves: files are encrypted by `begin_file()` writers as they stream in."""
    return parse_form(request.stream, request.headers.get("Content-Type", ""), limits=_upload_limits(_settings()),
                      begin_file=begin_file, file_fields=frozenset({"files"}), into=into)


def _csrf_valid(form: BaseForm) -> bool:
    """False when the form's CSRF token is missing, expired or forged (its message is on the field)."""
    return form.validate() or not form.csrf_token.errors


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
    channels = {channel.slug: channel for channel in submission.active_channels(get_session())}
    routes = [(question, channels[question.channel_slug]) for question in ROUTE_QUESTIONS
              if question.channel_slug in channels]
    routed = {question.channel_slug for question, _channel in routes}
    return render_template("reporter/route_map.html", organisation=_organisation(), routes=routes,
                           glossary=GLOSSARY, other_channels=[c for c in channels.values() if c.slug not in routed],
                           external_channels=EXTERNAL_CHANNELS, belgian_channels=BELGIAN_CHANNELS)


@bp.get("/melden")
def choose_channel() -> str:
    return render_template("reporter/choose_channel.html", channels=submission.active_channels(get_session()))


def _channel_or_404(slug: str) -> submission.ReportChannel:
    found = submission.find_report_channel(get_session(), slug)
    if found is None:
        abort(404)
    return found


def _clean_choice(parsed: ParsedForm | None) -> bool:
    """Remove hidden data from the files? On for a new form; a form shown again keeps the reporter's choice."""
    return parsed is None or scrub.wanted(parsed.fields.getlist(scrub.FIELD))


def _render_submit(found: submission.ReportChannel, form: SubmitForm, *, general: list[str] | None = None,
                   files_lost: bool = False, once: str = "", status: int = 200,
                   clean_files: bool = True) -> tuple[str, int]:
    lang = g.get("lang", "nl")
    channel = found.channel
    if not found.recipients and not general:
        general = [str(submission.NO_READER_MESSAGE)]
    form.category.choices = [SelectChoice(c["slug"], stored_text(c["nl"], c["en"], lang)) for c in channel.categories]
    recipients = found.recipient_choices()
    form.recipients.choices = [SelectChoice(r.user_id, r.display_name) for r in recipients]
    if request.method == "GET":
        form.recipients.data = [r.user_id for r in recipients]
    settings = _settings()
    return render_template(
        "reporter/submit.html", channel=channel, form=form, questions=submission.channel_questions(channel),
        general_errors=general or [],
        files_lost=files_lost, max_files=settings.max_files,
        once=once if submission.SUBMISSION_TOKEN.fullmatch(once) else submission.new_submission_token(),
        max_file_mb=max(1, settings.max_file_bytes // (1024 * 1024)), max_chars=settings.max_text_chars,
        clean_files=clean_files,
    ), status


@bp.get("/melden/<slug>")
def submit_form(slug: str) -> tuple[str, int]:
    found = _channel_or_404(slug)
    return _render_submit(found, submit_form_class(found.channel)())


@bp.post("/melden/<slug>")
def submit(slug: str) -> tuple[str, int]:
    settings = _settings()
    draft = submission.CaseDraft.start(settings)
    _owned_by_request(draft.batch)
    parsed = ParsedForm()

    def begin_file() -> AttachmentWriter:
        # The one-time token comes before the file inputs: the draft takes its case id before any file is bound.
        draft.name_after(settings, parsed.fields.get("once", ""))
        return draft.begin_file()

    _parse_with_files(begin_file, into=parsed)
    once = parsed.fields.get("once", "")
    # Looked up once the body is in: the report goes to the recipients of the moment it arrives, and no
    # database transaction stays open while files stream in.
    found = submission.find_report_channel(get_session(), slug)
    if found is None:
        parsed.discard_files()
        abort(404)
    channel = found.channel
    form = submit_form_class(channel)(formdata=parsed.fields)
    if not _csrf_valid(form):
        # An old form (the reporter took hours) or one that cannot be verified: shown again with its text and a
        # fresh token, so pressing Send again works. Cross-site posts never get here (security.py).
        files_lost = bool(parsed.files) or "files" in parsed.errors
        parsed.discard_files()
        return _render_submit(found, form, files_lost=files_lost, once=once, status=400)
    if parsed.errors:
        parsed.discard_files()
        general = _attach_errors(form, parsed.errors)
        return _render_submit(found, form, general=general, files_lost=True, once=once,
                              status=413 if parsed.file_too_large else 503 if parsed.no_room else 400,
                              clean_files=_clean_choice(parsed))
    if once and not draft.name_after(settings, once):
        # A damaged one-time token: shown again with a new one. (A post with none, made by a tool rather than
        # our form, keeps the draft's random id: the token only guards against a browser sending a form twice.)
        files_lost = bool(parsed.files)
        parsed.discard_files()
        return _render_submit(found, form, general=[str(FORM_NOT_VERIFIED)], files_lost=files_lost, status=400,
                              clean_files=_clean_choice(parsed))
    outcomes = scrub.clean_uploads(parsed.files, draft.batch, settings, enabled=_clean_choice(parsed))
    draft.files.extend(parsed.files)
    report = ReportInput(
        channel_slug=channel.slug,
        category=form.category.data or "",
        fields={q.key: parsed.fields.get(q.key, "") for q in submission.channel_questions(channel)},
        recipient_ids=list(parsed.fields.getlist("recipients")),
        identity=parsed.fields.get("identity") or None,
        language=g.get("lang", "nl"),
    )
    try:
        receipt = submission.finish_report(get_session(), settings, draft, report, found=found,
                                           limits=limits_of())
    except SubmissionError as error:
        general = _attach_errors(form, error.errors)
        return _render_submit(found, form, general=general, files_lost=bool(parsed.files), once=once, status=400,
                              clean_files=_clean_choice(parsed))
    except submission.AlreadyReceived:
        return render_template("reporter/already_received.html", channel=channel), 200
    except Busy:
        return _render_submit(found, form, general=[str(BUSY_TEXT)], files_lost=bool(parsed.files), once=once,
                              status=503, clean_files=_clean_choice(parsed))
    except OSError:
        # The files could not be written (disk full, storage gone): nothing was committed (finish_report rolled
        # back and removed its files); the form comes back with every word the reporter typed.
        return _render_submit(found, form, general=[str(STORAGE_FAILED)], files_lost=True, once=once, status=503,
                              clean_files=_clean_choice(parsed))
    return render_template("reporter/receipt.html", receipt=replace(receipt, files=tuple(outcomes)),
                           channel=channel), 200


# --- mailbox -----------------------------------------------------------------------------------------


@bp.before_request
def load_mailbox() -> Response | None:
    if request.endpoint not in MAILBOX_ENDPOINTS:
        return None
    cookie = request.cookies.get(mailboxes.COOKIE_NAME, "")
    mailbox = mailboxes.resume(get_session(), _settings(), cookie) if cookie else None
    if mailbox is None:
        if request.method == "POST" and request.endpoint in UNSENT_FIELDS:
            response = _login_again_with_text(UNSENT_FIELDS[request.endpoint], expired=bool(cookie))
        else:
            response = redirect(url_for("reporter.login", expired=1 if cookie else None))
        if cookie:
            response.delete_cookie(mailboxes.COOKIE_NAME, path="/")
        return response
    g.mailbox = mailbox
    g.csrf_binding = mailbox.session_id
    return None


def _login_again_with_text(field: str, *, expired: bool) -> Response:
    """The login page with the text of a mailbox form that arrived without a live session, so nothing typed
    is lost. The body is read by our own parser with no file allowed (files are drained, never written)."""
    limits = UploadLimits(0, 0, _settings().max_text_chars * 4 + 64)
    parsed = parse_form(request.stream, request.headers.get("Content-Type", ""), limits=limits,
                        begin_file=_no_file, file_fields=frozenset({"files"}))
    form = LoginForm(formdata=None, unsent=parsed.fields.get(field, ""), unsent_kind=field)
    page = render_template("reporter/login.html", form=form, failed=False, expired=expired, logged_out=False,
                           files_dropped=bool(parsed.errors.get("files")))
    return Response(page, status=401, mimetype="text/html")


def _no_file() -> AttachmentWriter:
    raise AssertionError("no file is written without a mailbox session")


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
            # Shown again without what was typed for the login (never echoed, nor a 1 MB "passphrase"), but
            # with a carried unsent text: it is the reporter's own.
            form = LoginForm(formdata=None, unsent=form.unsent.data, unsent_kind=form.unsent_kind.data)
        else:
            response = _after_login(result.cookie_value, form)
            _set_mailbox_cookie(response, result.cookie_value)
            return response
    return render_template("reporter/login.html", form=form, failed=failed,
                           expired=request.args.get("expired") == "1",
                           logged_out=request.args.get("logged_out") == "1"), 401 if failed else 200


def _after_login(cookie_value: str, form: LoginForm) -> Response:
    """To the mailbox; with a text carried through the login, the mailbox at once with that text back in its
    box (not sent: the reporter reads it and presses Send)."""
    unsent, kind = form.unsent.data or "", form.unsent_kind.data or ""
    mailbox = mailboxes.resume(get_session(), _settings(), cookie_value) if unsent.strip() else None
    if mailbox is None:
        return redirect(url_for("reporter.mailbox"), code=303)
    g.mailbox = mailbox
    g.csrf_binding = mailbox.session_id
    forms: dict[str, BaseForm] = {}
    if kind == "note":
        forms["meeting"] = MeetingForm(formdata=None, note=unsent)
    elif kind == "identity":
        forms["identity"] = IdentityForm(formdata=None, identity=unsent)
    else:
        forms["reply"] = ReplyForm(formdata=None, body=unsent)
    page, status = _render_mailbox(restored=True, **forms)  # type: ignore[arg-type]
    return Response(page, status=status, mimetype="text/html")


def _render_mailbox(*, reply: ReplyForm | None = None, meeting: MeetingForm | None = None,
                    identity: IdentityForm | None = None, general: list[str] | None = None,
                    files_lost: bool = False, restored: bool = False, status: int = 200,
                    clean_files: bool = True) -> tuple[str, int]:
    view = mailboxes.read_mailbox(get_session(), g.mailbox, g.get("lang", "nl"))
    settings = _settings()
    return render_template(
        "reporter/mailbox.html", view=view, questions=submission.channel_questions(g.mailbox.opened.case.channel), ongoing=dict(submission.ONGOING_CHOICES),
        status_label=STATUS_LABELS.get(view.status, view.status), kind_labels=KIND_LABELS,
        reply=reply or ReplyForm(formdata=None), meeting=meeting or MeetingForm(formdata=None),
        identity_form=identity or IdentityForm(formdata=None), logout_form=LogoutForm(formdata=None),
        general_errors=general or [], files_lost=files_lost, sent=request.args.get("sent"), restored=restored,
        max_files=settings.max_files, max_file_mb=max(1, settings.max_file_bytes // (1024 * 1024)),
        clean_files=clean_files,
        idle_minutes=settings.reporter_idle_minutes,
    ), status


def _mailbox_form_not_verified(**forms: object) -> tuple[str, int]:
    """A mailbox form whose token does not fit this session (an old tab, a login since): shown again with its
    text and a fresh token; nothing was stored."""
    return _render_mailbox(general=[str(MAILBOX_FORM_NOT_VERIFIED)], status=400, **forms)  # type: ignore[arg-type]


@bp.get("/brievenbus")
def mailbox() -> tuple[str, int]:
    return _render_mailbox()


@bp.post("/brievenbus/bericht")
def reply() -> Response | tuple[str, int]:
    settings = _settings()
    batch = _owned_by_request(storage.FileBatch(settings.storage_path, g.mailbox.opened,
                                                settings.storage_reserve_bytes))
    parsed = _parse_with_files(batch.begin)
    form = ReplyForm(formdata=parsed.fields)
    if not _csrf_valid(form):
        parsed.discard_files()
        return _mailbox_form_not_verified(reply=form, files_lost=True)
    if parsed.errors:
        parsed.discard_files()
        general = _attach_errors(form, parsed.errors)
        return _render_mailbox(reply=form, general=general, files_lost=True,
                               status=413 if parsed.file_too_large else 503 if parsed.no_room else 400,
                               clean_files=_clean_choice(parsed))
    scrub.clean_uploads(parsed.files, batch, settings, enabled=_clean_choice(parsed))
    try:
        mailboxes.post_reply(get_session(), settings, g.mailbox, parsed.fields.get("body", ""), parsed.files)
    except mailboxes.MailboxError as error:
        general = _attach_errors(form, error.errors)
        return _render_mailbox(reply=form, general=general, files_lost=bool(parsed.files), status=400,
                               clean_files=_clean_choice(parsed))
    return redirect(url_for("reporter.mailbox", sent="message", _anchor="thread"), code=303)


@bp.post("/brievenbus/gesprek")
def meeting() -> Response | tuple[str, int]:
    form = MeetingForm()
    if not _csrf_valid(form):
        return _mailbox_form_not_verified(meeting=form)
    try:
        mailboxes.request_meeting(get_session(), _settings(), g.mailbox, form.way.data or "", form.note.data or "")
    except mailboxes.MailboxError as error:
        general = _attach_errors(form, error.errors)
        return _render_mailbox(meeting=form, general=general, status=400)
    return redirect(url_for("reporter.mailbox", sent="meeting", _anchor="thread"), code=303)


@bp.post("/brievenbus/identiteit")
def identity() -> Response | tuple[str, int]:
    """Sharing one's identity cannot be undone: the first post shows who will read it and asks to confirm
    ("share"); "edit" puts the text back in its box."""
    form = IdentityForm()
    if not _csrf_valid(form):
        return _mailbox_form_not_verified(identity=form)
    step = request.form.get("step", "")
    try:
        text = mailboxes.check_identity(_settings(), form.identity.data or "")
        if step == "edit":
            return _render_mailbox(identity=form)
        if step != "share":
            return render_template("reporter/identity_confirm.html", form=form, identity_text=text,
                                   readers=mailboxes.case_readers(get_session(), g.mailbox)), 200
        mailboxes.disclose_identity(get_session(), _settings(), g.mailbox, text)
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
