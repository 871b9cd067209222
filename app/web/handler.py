"""Handler pages: first-run setup, activation, login with TOTP, account, inbox, the case and its actions.

Every case page is decrypted for its request only (app/services/handling.py); content never reaches a
page of a staff member without the handler role or without a key for the case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.db import get_session
from app.extensions import limiter
from app.forms import BaseForm
from app.models import utcnow
from app.services import accounts, clock, handling, inflow, limits, staff_auth
from app.services.cases import OpenCase
from app.services.handling import STATUSES
from app.services.staff_auth import COOKIE_NAME, current_staff, require_role, require_staff, settings_of_app
from app.web import commit_or_error, file_response

bp = Blueprint("handler", __name__)


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
}


@bp.app_context_processor
def staff_labels() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "outcome_labels": OUTCOME_LABELS, "milestone_labels": MILESTONE_LABELS,
            "kind_labels": KIND_LABELS, "staff_logout_form": LogoutForm, "staff_links": staff_links}


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
    return render_template("handler/inbox.html", listing=listing, filters=filters, staff=staff,
                           channels=handling.channel_choices(get_session(), g.lang), statuses=STATUSES,
                           inflow=arrivals, usual_per_day=format_decimal(round(arrivals.usual, 1)))


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
    view = handling.case_view(session, opened, staff, g.lang)
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
    forms.update(status=status_form, close=close_form, share=share_form, hold=ReasonForm(prefix="hold"),
                 release=ReasonForm(prefix="release"), meeting=ConfirmForm(prefix="meeting"))
    if form is not None:
        forms[failed] = form
    meeting = next((m for m in view.milestones if m.kind == "meeting" and m.done_on is None), None)
    return render_template("handler/case.html", view=view, forms=forms, error=error, failed=failed,
                           staff=staff, open_meeting=meeting), status


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
        try:
            run(session, opened, staff, form)
        except handling.ActionRefused as problem:
            session.rollback()
            return _case_page(opened, staff, error=str(problem), failed=name, form=form, status=400)
        session.commit()
        return redirect(url_for("handler.case", reference=opened.case.reference) + f"#{name}")

    action.__name__ = f"case_{name}"
    return action


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
}
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
