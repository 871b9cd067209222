"""Handler pages: first-run setup, activation, login with TOTP, account, inbox, the case and its actions.

Every case page is decrypted for its request only (app/services/handling.py); content never reaches a
page of a staff member without the handler role or without a key for the case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.db import get_session
from app.extensions import limiter
from app.forms import BaseForm
from app.models import utcnow
from app.services import accounts, case_track, clock, defaults, handling, inflow, limits, staff_auth
from app.services.cases import OpenCase
from app.services.handling import STATUSES
from app.services.staff_auth import COOKIE_NAME, current_staff, require_role, require_staff, settings_of_app
from app.web import commit_or_error, file_response

bp = Blueprint("handler", __name__)
SOON_DAYS = 14  # a deadline this close is marked "soon" (amber), as in the compliance view


# --- forms -------------------------------------------------------------------------------------------


class LoginForm(BaseForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    code = StringField(_l("Code from your authenticator app"), validators=[Optional(), Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class TotpForm(BaseForm):
    secret = HiddenField()
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class EnrolForm(TotpForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class ActivateForm(TotpForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=256)],
                            render_kw={"autocomplete": "new-password"})


class SetupForm(ActivateForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name shown to colleagues"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail address for notifications"), validators=[Optional(), Length(max=320)])
    also_handler = BooleanField(_l("I also handle reports (handler role)"))


class PasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=256)])


class KeyFileForm(BaseForm):
    recovery_key = StringField(_l("Recovery key"), validators=[DataRequired(), Length(max=200)],
                               render_kw={"autocomplete": "off"})


class RestoreForm(BaseForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    recovery_key = StringField(_l("Recovery key"), validators=[DataRequired(), Length(max=200)],
                               render_kw={"autocomplete": "off"})
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=256)])


class LogoutForm(BaseForm):
    pass


class TextForm(BaseForm):
    text = TextAreaField(_l("Text"), validators=[Length(max=100_000)])


class StatusForm(BaseForm):
    status = SelectField(_l("Status"), choices=[], validate_choice=False)


class CloseForm(BaseForm):
    outcome = SelectField(_l("Outcome"), choices=[], validate_choice=False)


class ShareForm(BaseForm):
    user_id = SelectField(_l("Handler"), choices=[], validate_choice=False)


class ReasonForm(BaseForm):
    """A legal hold, or lifting one: the reason is required (checked by the service, with its message)."""

    reason = StringField(_l("Reason"), render_kw={"maxlength": 200, "required": True})


class ConfirmForm(BaseForm):
    pass


class MoveForm(BaseForm):
    """Move the case to another channel (track); the clock then counts from the original receipt."""

    channel = SelectField(_l("New channel"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason"), render_kw={"maxlength": 200, "required": True})


class ExtendForm(BaseForm):
    """One of the policy's extensions of an open milestone ("kind:slug"), with the reason."""

    extension = SelectField(_l("Extension"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason"), render_kw={"maxlength": 200, "required": True})


STATUS_LABELS = {
    "new": _l("New"), "acknowledged": _l("Acknowledged"), "in_progress": _l("In progress"),
    "feedback_given": _l("Feedback given"), "closed": _l("Closed"),
}
OUTCOME_LABELS = {
    "founded": _l("Founded"), "partly_founded": _l("Partly founded"), "unfounded": _l("Unfounded"),
    "referred": _l("Referred elsewhere"), "withdrawn": _l("Withdrawn by the reporter"),
    "not_investigated": _l("Not investigated"),
}
MILESTONE_LABELS = {
    "acknowledge": _l("Acknowledge receipt"), "feedback": _l("Feedback"), "respond": _l("Respond"),
    "decide": _l("Decision"), "meeting": _l("Meeting"), "retention_review": _l("Retention review"),
}
KIND_LABELS = {
    "message": _l("Message"), "acknowledgement": _l("Acknowledgement of receipt"), "feedback": _l("Feedback"),
    "meeting_request": _l("Meeting request"), "identity_disclosed": _l("Identity disclosed"),
    "channel_moved": _l("Moved to another channel"), "deadline_extended": _l("Deadline extended"),
}


@bp.app_context_processor
def staff_labels() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "outcome_labels": OUTCOME_LABELS, "milestone_labels": MILESTONE_LABELS,
            "kind_labels": KIND_LABELS, "staff_logout_form": LogoutForm, "staff_links": staff_links,
            "legal_today": clock.today, "policy_name": _policy_name,
            "policy_description": _policy_description}


@bp.app_template_global()
def due_words(due_on: date, today: date, done_on: date | None = None) -> Markup:
    """A milestone's date in words, in the inbox's colours: days left (soon: amber), days late (red), or how it
    was met. A function rather than a template macro: the inbox shows it on every row."""
    if done_on is not None:
        late = (done_on - due_on).days
        if late > 0:
            return _coloured("overdue", ngettext("done %(num)s day late", "done %(num)s days late", late))
        return _coloured("on-time", _("done on time"))
    left = (due_on - today).days
    if left < 0:
        return _coloured("overdue", ngettext("%(num)s day late", "%(num)s days late", -left))
    colour = "soon" if left <= SOON_DAYS else "due"
    if left == 0:
        return _coloured(colour, _("due today"))
    return _coloured(colour, ngettext("%(num)s day left", "%(num)s days left", left))


def _coloured(css_class: str, text: str) -> Markup:
    return Markup('<span class="%s">%s</span>') % (css_class, text)


def _policy_name(policy: Any) -> str:
    return defaults.policy_text(policy, g.get("lang", "nl"))[0]


def _policy_description(policy: Any) -> str:
    return defaults.policy_text(policy, g.get("lang", "nl"))[1]


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """A file size in the page's language (Babel): "22 bytes", "1,5 kB", "3,2 MB"."""
    if size < 1024:
        return ngettext("%(num)s byte", "%(num)s bytes", size)
    if size < 1024 * 1024:
        return _("%(size)s kB", size=format_decimal(size / 1024, "#,##0.0"))
    return _("%(size)s MB", size=format_decimal(size / (1024 * 1024), "#,##0.0"))


def staff_links(staff: staff_auth.Staff) -> list[tuple[str, str]]:
    """The start pages this staff member may open, for the navigation."""
    links = []
    for role, label in (("handler", _l("Inbox")), ("compliance", _l("Compliance")), ("admin", _l("Administration"))):
        endpoint = staff_auth.role_home(role)
        if staff.has(role) and endpoint:
            links.append((url_for(endpoint), str(label)))
    return links


def _set_staff_cookie(response: BaseResponse, value: str) -> BaseResponse:
    response.set_cookie(COOKIE_NAME, value, httponly=True, samesite="Strict",
                        secure=settings_of_app().secure_cookies, path="/")
    return response


def _fresh_secret(form: TotpForm) -> str:
    """The TOTP secret being enrolled: kept across a failed attempt (the QR already scanned stays valid)."""
    secret = str(form.secret.data or "")
    if not (16 <= len(secret) <= 64 and secret.isalnum()):
        secret = staff_auth.new_totp_secret()
        form.secret.data = secret
    return secret


# --- accounts: setup, activation, login --------------------------------------------------------------


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> str:
    session = get_session()
    link = staff_auth.use_link(session, token, "setup")
    form = SetupForm()
    secret = _fresh_secret(form)
    error = None
    if form.validate_on_submit():
        recovery_key, error = commit_or_error(lambda: staff_auth.setup_first_admin(
            session, settings_of_app(), link, form.username.data or "", form.display_name.data or "",
            form.email.data, bool(form.also_handler.data), form.password.data or "", form.confirm.data or "",
            secret, form.code.data or "", utcnow(),
        ))
        if error is None:
            return render_template("handler/recovery_key.html", recovery_key=recovery_key)
    username = form.username.data or _("new admin")
    return render_template("handler/activate.html", form=form, error=error, setup=True,
                           qr=staff_auth.totp_qr_svg(secret, username), secret=secret)


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token: str) -> str:
    session = get_session()
    link = staff_auth.use_link(session, token, "invite")
    form = ActivateForm()
    secret = _fresh_secret(form)
    error = None
    if form.validate_on_submit():
        recovery_key, error = commit_or_error(lambda: staff_auth.activate_invited(
            session, settings_of_app(), link, form.password.data or "", form.confirm.data or "", secret,
            form.code.data or "", utcnow(),
        ))
        if error is None:
            return render_template("handler/recovery_key.html", recovery_key=recovery_key)
    user = staff_auth.invited_user(session, link)
    return render_template("handler/activate.html", form=form, error=error, setup=False, user=user,
                           qr=staff_auth.totp_qr_svg(secret, user.username), secret=secret)


def _staff_login_limit() -> str:
    return settings_of_app().staff_login_limit


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_staff_login_limit, methods=["POST"])
def login() -> Any:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = get_session()
        try:
            outcome = staff_auth.login(session, settings_of_app(), form.username.data or "",
                                       form.password.data or "", form.code.data or "", utcnow())
        except staff_auth.LoginFailed:
            session.commit()  # keep the failure count
            error = str(staff_auth.LoginFailed.message)
        except limits.Busy:
            session.rollback()
            return render_template("handler/login.html", form=form, error=_("Many logins are being tried at the moment. "
                                                                       "Wait a minute and try again.")), 503
        else:
            session.commit()
            if isinstance(outcome, staff_auth.EnrolmentNeeded):
                return redirect(url_for("handler.enrol", token=outcome.token))
            response = redirect(url_for(staff_auth.home_endpoint(outcome.user)))
            return _set_staff_cookie(response, outcome.cookie_value)
    elif form.is_submitted():
        error = str(staff_auth.LoginFailed.message)
    return render_template("handler/login.html", form=form, error=error)


@bp.route("/enrol/<token>", methods=["GET", "POST"])
def enrol(token: str) -> Any:
    session = get_session()
    link = staff_auth.use_link(session, token, "enrol")
    user = staff_auth.invited_user(session, link)
    form = EnrolForm()
    secret = _fresh_secret(form)
    error = None
    if form.validate_on_submit():
        try:
            started = staff_auth.enrol_totp(session, settings_of_app(), link, form.password.data or "", secret,
                                            form.code.data or "", utcnow())
        except staff_auth.LoginFailed:
            error = _("The password or the code is not right. Type the current code of the QR code below.")
        else:
            session.commit()
            return _set_staff_cookie(redirect(url_for(staff_auth.home_endpoint(user))), started.cookie_value)
    return render_template("handler/enrol.html", form=form, error=error, user=user,
                           qr=staff_auth.totp_qr_svg(secret, user.username), secret=secret)


@bp.route("/restore", methods=["GET", "POST"])
def restore() -> str:
    form = RestoreForm()
    error = None
    if form.validate_on_submit():
        _, error = commit_or_error(lambda: staff_auth.restore_access(
            get_session(), settings_of_app(), form.username.data or "", form.recovery_key.data or "",
            form.password.data or "", form.confirm.data or ""))
        if error is None:
            return render_template("handler/restored.html")
    return render_template("handler/restore.html", form=form, error=error)


@bp.post("/logout")
def logout() -> BaseResponse:
    staff = current_staff()
    if staff is not None and LogoutForm().validate_on_submit():
        staff_auth.logout(get_session(), staff.session_id)
        get_session().commit()
    response = redirect(url_for("handler.login"))
    response.delete_cookie(COOKIE_NAME, path="/", samesite="Strict", httponly=True,
                           secure=settings_of_app().secure_cookies)
    return response


@bp.route("/account", methods=["GET", "POST"])
@require_staff
def account() -> Any:
    staff = current_staff()
    assert staff is not None
    form = PasswordForm(prefix="pw")
    error = None
    if form.validate_on_submit():
        _, error = commit_or_error(lambda: staff_auth.change_password(
            get_session(), settings_of_app(), staff, form.current.data or "", form.password.data or "",
            form.confirm.data or ""))
        if error is None:
            return redirect(url_for("handler.account", changed=1))
    return render_template("handler/account.html", form=form, key_form=KeyFileForm(prefix="key"), error=error,
                           staff=staff, changed=request.args.get("changed") == "1")


@bp.post("/account/key-file")
@require_staff
def key_file() -> Any:
    staff = current_staff()
    assert staff is not None
    key_form = KeyFileForm(prefix="key")
    key_error = None
    if key_form.validate_on_submit():
        try:
            data = staff_auth.private_key_file(staff, key_form.recovery_key.data or "")
        except accounts.AccountError as problem:
            key_error = str(problem)
        else:
            return Response(data, mimetype="application/octet-stream", headers={
                "Content-Disposition": f'attachment; filename="meldkluis-key-{staff.user.username}.json"'})
    return render_template("handler/account.html", form=PasswordForm(prefix="pw"), key_form=key_form,
                           key_error=key_error, staff=staff, changed=False)


# --- inbox and case ----------------------------------------------------------------------------------


@bp.get("/")
@require_role("handler")
def inbox() -> str:
    staff = current_staff()
    assert staff is not None
    filters = {key: request.args.get(key, "")[:64] for key in ("status", "channel", "category")}
    page = request.args.get("page", "1")
    listing = handling.inbox(get_session(), staff.user.id, g.lang, clock.today(),
                             page=int(page) if page.isdigit() else 1, **filters)
    arrivals = inflow.inflow(get_session(), staff.user.id, clock.today())
    # Labels translated once for the page, not once per row (a lazy string runs gettext each time it is shown).
    return render_template("handler/inbox.html", listing=listing, filters=filters, staff=staff,
                           channels=listing.channels, statuses=STATUSES,
                           status_labels={k: str(v) for k, v in STATUS_LABELS.items()},
                           milestone_labels={k: str(v) for k, v in MILESTONE_LABELS.items()},
                           per_page=handling.PER_PAGE,
                           inflow=arrivals,
                           usual_per_day=format_decimal(round(arrivals.usual, 1)) if arrivals.usual is not None else "")


def _with_case(view: Callable[..., Any]) -> Callable[..., Any]:
    """Open the case of the URL for this request (403 for non-handlers, 404 without a key) and pass it on."""

    def wrapped(reference: str, **kwargs: Any) -> Any:
        staff = current_staff()
        assert staff is not None
        try:
            opened = handling.open_case(get_session(), staff, reference)
        except handling.CaseForbidden:
            abort(403)
        except handling.CaseNotFound:
            abort(404)
        return view(opened, staff, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return require_staff(wrapped)


def _case_page(opened: OpenCase, staff: staff_auth.Staff, *, error: str | None = None,
               failed: str = "", form: BaseForm | None = None, status: int = 200) -> tuple[str, int]:
    session = get_session()
    thread_page = request.args.get("thread", "")
    view = handling.case_view(session, opened, staff, g.lang, int(thread_page) if thread_page.isdigit() else None)
    session.commit()
    forms: dict[str, BaseForm] = {
        "acknowledge": TextForm(prefix="acknowledge", data={"text": view.acknowledgement_text}),
        "reply": TextForm(prefix="reply"), "feedback": TextForm(prefix="feedback"), "note": TextForm(prefix="note"),
    }
    status_form = StatusForm(prefix="status", data={"status": view.case.status})
    status_form.status.choices = [SelectChoice(s, STATUS_LABELS[s]) for s in handling.OPEN_STATUSES]
    close_form = CloseForm(prefix="close")
    close_form.outcome.choices = [SelectChoice(o, OUTCOME_LABELS[o]) for o in handling.OUTCOMES]
    share_form = ShareForm(prefix="share")
    share_form.user_id.choices = [SelectChoice(u.id, u.display_name) for u in view.share_candidates]
    move_form = MoveForm(prefix="move")
    move_form.channel.choices = [SelectChoice(c.slug, c.name(g.lang)) for c in view.move_channels]
    extend_form = ExtendForm(prefix="extend")
    extend_form.extension.choices = [
        SelectChoice(f"{m.kind}:{slug}", f"{MILESTONE_LABELS.get(m.kind, m.kind)}: "
                     f"{case_track.EXTENSION_LABELS.get(slug, slug)} (+{days})")
        for m, slug, days in view.extensions]
    forms.update(status=status_form, close=close_form, share=share_form, hold=ReasonForm(prefix="hold"),
                 release=ReasonForm(prefix="release"), meeting=ConfirmForm(prefix="meeting"), move=move_form,
                 extend=extend_form)
    if form is not None:
        for posted in form:  # the posted form keeps what was typed, the fresh one knows the choices
            fresh = getattr(forms[failed], posted.short_name, None)
            if fresh is not None and getattr(fresh, "choices", None) and not getattr(posted, "choices", None):
                posted.choices = fresh.choices
        forms[failed] = form
    meeting = next((m for m in view.milestones if m.kind == "meeting" and m.done_on is None), None)
    done = request.args.get("done", "") if request.method == "GET" else ""
    return render_template("handler/case.html", view=view, forms=forms, error=error, failed=failed,
                           staff=staff, open_meeting=meeting, done=done if done in DONE_MESSAGES else "",
                           done_messages=DONE_MESSAGES), status


@bp.get("/case/<reference>")
@_with_case
def case(opened: OpenCase, staff: staff_auth.Staff) -> Any:
    return _case_page(opened, staff)


def _case_action(name: str, form_class: type[BaseForm], run: Callable[..., None]) -> Callable[..., Any]:
    """A POST action on a case: validate its form, run one service function, redirect back or show the error."""

    def action(opened: OpenCase, staff: staff_auth.Staff) -> Any:
        form = form_class(prefix=name)  # choices are checked by the service, with a message for the user
        session = get_session()
        if not form.validate_on_submit():
            errors = [e for errs in form.errors.values() for e in errs]
            return _case_page(opened, staff, error=" ".join(map(str, errors)), failed=name, form=form, status=400)
        detail = _confirm_detail(opened, name, form) if name in CONFIRM_FIRST else None
        if detail is not None and request.form.get(f"{name}-confirmed") != "1":
            return render_template("handler/confirm.html", case=opened.case, name=name, form=form, staff=staff,
                                   question=CONFIRM_FIRST[name], detail=detail)
        try:
            run(session, opened, staff, form)
        except (handling.ActionRefused, case_track.TrackRefused) as problem:
            session.rollback()
            return _case_page(opened, staff, error=str(problem), failed=name, form=form, status=400)
        session.commit()
        return redirect(url_for("handler.case", reference=opened.case.reference, done=name) + f"#{name}-done")

    action.__name__ = f"case_{name}"
    return action


# Irreversible actions: the first POST shows what will happen, the second (with "-confirmed") does it.
CONFIRM_FIRST = {
    "close": _l("Close this case? It cannot be reopened: no more messages can be sent, and the retention period "
                "starts today."),
    "share": _l("Share this case? The handler gets the case key and can read everything, now and later; "
                "this cannot be taken back."),
}
DONE_MESSAGES = {
    "acknowledge": _l("The acknowledgement was sent to the reporter's mailbox."),
    "reply": _l("Your reply was sent to the reporter's mailbox."),
    "feedback": _l("The feedback was sent to the reporter's mailbox."),
    "note": _l("The note was saved."), "status": _l("The status was changed."), "close": _l("The case was closed."),
    "share": _l("The case was shared."), "hold": _l("The case is on legal hold."),
    "release": _l("The legal hold was lifted."), "meeting": _l("The meeting was recorded."),
    "move": _l("The case was moved; its deadlines were recomputed."), "extend": _l("The deadline was extended."),
}


def _confirm_detail(opened: OpenCase, name: str, form: Any) -> str | None:
    """What the confirmation page names; None when the choice is not valid (the service then refuses it)."""
    if name == "close":
        outcome = form.outcome.data or ""
        return str(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else None
    candidates = handling.share_candidates(get_session(), opened.case)
    return next((user.display_name for user in candidates if user.id == form.user_id.data), None)


def _text(form: Any) -> str:
    return str(form.text.data or "")


def _reason(form: Any) -> str:
    return str(form.reason.data or "")


# Each action: its form and the one service call it makes (the server's date, never one from the form).
CASE_ACTIONS: dict[str, tuple[type[BaseForm], Callable[..., None]]] = {
    "acknowledge": (TextForm, lambda s, o, st, f: handling.acknowledge(s, settings_of_app(), o, st, _text(f),
                                                                       clock.today())),
    "reply": (TextForm, lambda s, o, st, f: handling.reply(s, settings_of_app(), o, st, _text(f), clock.today())),
    "feedback": (TextForm, lambda s, o, st, f: handling.record_feedback(s, settings_of_app(), o, st, _text(f),
                                                                        clock.today())),
    "note": (TextForm, lambda s, o, st, f: handling.add_note(s, settings_of_app(), o, st, _text(f))),
    "status": (StatusForm, lambda s, o, st, f: handling.set_status(s, o, st, f.status.data or "")),
    "close": (CloseForm, lambda s, o, st, f: handling.close(s, o, st, f.outcome.data or "", clock.today())),
    "share": (ShareForm, lambda s, o, st, f: handling.share(s, o, st, f.user_id.data or "")),
    "hold": (ReasonForm, lambda s, o, st, f: handling.set_legal_hold(s, o, st, _reason(f))),
    "release": (ReasonForm, lambda s, o, st, f: handling.lift_legal_hold(s, o, st, _reason(f))),
    "meeting": (ConfirmForm, lambda s, o, st, f: handling.record_meeting_held(s, o, st, clock.today())),
    "move": (MoveForm, lambda s, o, st, f: case_track.move_case(s, o, st.user.id, f.channel.data or "", _reason(f),
                                                                clock.today())),
    "extend": (ExtendForm, lambda s, o, st, f: case_track.extend_deadline(
        s, o, st.user.id, *_extension(f), _reason(f), clock.today())),
}


def _extension(form: Any) -> tuple[str, str]:
    kind, _, slug = str(form.extension.data or "").partition(":")
    return kind, slug
for _name, (_form_class, _run) in CASE_ACTIONS.items():
    bp.add_url_rule(f"/case/<reference>/{_name}", endpoint=f"case_{_name}",
                    view_func=_with_case(_case_action(_name, _form_class, _run)), methods=["POST"])


@bp.get("/case/<reference>/attachment/<attachment_id>")
@_with_case
def attachment(opened: OpenCase, staff: staff_auth.Staff, attachment_id: str) -> Response:
    try:
        name, chunks, size = handling.attachment_download(get_session(), settings_of_app(), opened, staff,
                                                          attachment_id)
    except handling.CaseNotFound:
        abort(404)
    get_session().commit()
    return file_response(chunks, size, handling.content_disposition(name))
