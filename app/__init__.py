"""Meldkluis: anonymous, end-to-end-encrypted reporting (Wbk).

`create_app()` wires settings, database, extensions, blueprints (one per audience), security
headers and error pages. Nothing here holds a secret beyond the request that needs it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, abort, g, redirect, request, url_for
from werkzeug.wrappers import Response

from app import db, errors, i18n, migrate, security
from app.config import ROOT, Settings
from app.extensions import babel, limiter
from app.services import limits


def create_app(settings: Settings | None = None, **config: Any) -> Flask:
    settings = settings or Settings.from_environment()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(settings.instance_path),
    )
    app.config.update(
        MELDKLUIS=settings,
        SECRET_KEY=settings.flask_secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=settings.max_files * settings.max_file_bytes + 4 * 1024 * 1024,
        # Werkzeug must never spool a form field to disk: uploads are parsed by app/services/upload.py.
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT_LANGUAGE,
        BABEL_TRANSLATION_DIRECTORIES=str(i18n.COMPILED_DIR),
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_KEY_PREFIX=settings.redis_prefix,
        RATELIMIT_SWALLOW_ERRORS=True,  # like app/services/limits.py: an unreachable Redis fails open
        RATELIMIT_ENABLED=True,
        WTF_CSRF_ENABLED=True,
        WTF_CSRF_CHECK_DEFAULT=False,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config.update(config)
    _quiet_request_logging()

    i18n.compile_catalogs()
    db.init_app(app, settings.database_url)
    migrate.check_schema(db.engine_of(app))
    babel.init_app(app, locale_selector=i18n.current_language)
    app.jinja_env.filters["dateformat"] = i18n.format_day
    limiter.init_app(app)
    limits.init_app(app, limits.make_store(settings.redis_url), settings.limits_key, settings.redis_prefix)
    security.init_app(app, settings.onion_address, settings.base_url)
    errors.init_app(app)
    _register_language_prefix(app)
    _register_blueprints(app)
    return app


def _register_language_prefix(app: Flask) -> None:
    @app.url_value_preprocessor
    def pull_language(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values and "lang" in values:
            lang = values.pop("lang")
            if lang not in i18n.LANGUAGES:
                abort(404)
            if lang not in i18n.STAFF_LANGUAGES and i18n.is_staff_endpoint(endpoint):
                # Staff pages exist in Dutch and English: a reporter language there reads the English page
                # (a form is never re-posted elsewhere: only a page that can be re-requested moves).
                if request.method not in ("GET", "HEAD"):
                    abort(404)
                g.lang = "en"
                abort(redirect(url_for(endpoint, **{**values, **request.args.to_dict(flat=False)}, lang="en")))
            g.lang = lang

    @app.url_defaults
    def add_language(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" not in values and app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = i18n.current_language()

    @app.context_processor
    def language_in_templates() -> dict[str, Any]:
        lang = i18n.current_language()
        return {"lang": lang, "text_direction": i18n.text_direction(lang), "language_links": i18n.language_links(),
                "stored_text": i18n.stored_text}

    @app.get("/")
    def root() -> Response:
        return redirect(url_for("reporter.start", lang=i18n.DEFAULT_LANGUAGE))


def _register_blueprints(app: Flask) -> None:
    from app.web import admin, compliance, handler, health, reporter

    app.register_blueprint(reporter.bp, url_prefix="/<lang>")
    app.register_blueprint(handler.bp, url_prefix="/<lang>/handler")
    app.register_blueprint(compliance.bp, url_prefix="/<lang>/compliance")
    app.register_blueprint(admin.bp, url_prefix="/<lang>/admin")
    app.register_blueprint(health.bp)


def _quiet_request_logging() -> None:
    # Werkzeug's request log line carries the client address: never emit it.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
