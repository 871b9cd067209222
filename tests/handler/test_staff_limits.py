"""Staff login on an anonymous endpoint: Argon2id behind a gate, a rate limit, and unknown names that cost,
answer and lock exactly like known ones (issue 10)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import argon2
import pytest
from flask import Flask

from app import create_app, db
from app.config import Settings
from app.models import utcnow
from app.services import limits as limits_module
from app.services import staff_auth
from app.services.defaults import ensure_defaults
from app.services.limits import Limits

from .conftest import PASSWORD, csrf  # noqa: TID252


@pytest.fixture
def argon2_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts password checks (Argon2id verify) and the most that ran at once; each is held a little longer,
    so runs that are not gated overlap."""
    stats = {"runs": 0, "inside": 0, "most": 0}
    lock = threading.Lock()
    real = argon2.PasswordHasher.verify

    def verify(self: argon2.PasswordHasher, hash: str, password: str) -> bool:  # noqa: A002
        with lock:
            stats["runs"] += 1
            stats["inside"] += 1
            stats["most"] = max(stats["most"], stats["inside"])
        try:
            time.sleep(0.05)
            return bool(real(self, hash, password))
        finally:
            with lock:
                stats["inside"] -= 1

    monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)
    yield stats


def _attempt(app: Flask, name: str, password: str, limits: Limits, now: Any = None) -> None:
    with app.test_request_context(), db.session_scope(app) as session:
        with contextlib.suppress(staff_auth.LoginFailed):
            staff_auth.login(session, app.config["MELDKLUIS"], name, password, "", now or utcnow(), limits=limits)
            raise AssertionError("logged in")
        session.commit()


def test_unknown_names_lock_like_known_ones_and_a_locked_name_costs_nothing(
        app: Flask, make_member: Callable[..., Any], argon2_runs: dict[str, int], fake_clock: Any) -> None:
    make_member("bert")
    limits = Limits.in_memory(fake_clock)
    now = utcnow()
    for name in ("bert", "ghost"):
        before = argon2_runs["runs"]
        for _ in range(staff_auth.FREE_ATTEMPTS):
            _attempt(app, name, "wrong password here", limits, now)
        assert argon2_runs["runs"] - before == staff_auth.FREE_ATTEMPTS  # one check per attempt, known or not
        before = argon2_runs["runs"]
        _attempt(app, name, PASSWORD, limits, now)  # locked: refused without an Argon2id run
        assert argon2_runs["runs"] == before, name
    # Both locks end after the same first period.
    fake_clock.advance(staff_auth.BACKOFF.first + timedelta(seconds=1))
    later = now + staff_auth.BACKOFF.first + timedelta(seconds=1)
    for name in ("bert", "ghost"):
        before = argon2_runs["runs"]
        _attempt(app, name, "wrong password here", limits, later)
        assert argon2_runs["runs"] == before + 1, name


def test_argon2id_runs_behind_a_gate(app: Flask, make_member: Callable[..., Any],
                                     argon2_runs: dict[str, int]) -> None:
    make_member("bert")
    limits = Limits.in_memory()
    names = ["bert", "ghost-1", "ghost-2", "bert", "ghost-3", "ghost-4"]
    threads = [threading.Thread(target=_attempt, args=(app, name, "wrong password here", limits)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert argon2_runs["runs"] == len(names)
    assert argon2_runs["most"] == app.config["MELDKLUIS"].staff_kdf_concurrency == 1


def test_a_full_gate_answers_busy_not_an_error(app: Flask, make_member: Callable[..., Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    member = make_member("bert")
    client = app.test_client()
    token = csrf(client, "/nl/handler/login")
    monkeypatch.setattr(staff_auth, "KDF_WAIT_SECONDS", 0.1)
    size = app.config["MELDKLUIS"].staff_kdf_concurrency
    with limits_module.process_gate(staff_auth.KDF_GATE, size, 1):  # someone else's login holds the gate
        response = client.post("/nl/handler/login", data={
            "csrf_token": token, "username": member.username, "password": PASSWORD, "code": member.code()})
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "Wacht een minuut" in html
    assert "mk_staff=" not in response.headers.get("Set-Cookie", "")


@pytest.fixture
def limited_app(settings: Settings, app: Flask) -> Iterator[Flask]:
    limited = create_app(replace(settings, staff_login_limit="4 per minute"))
    with db.session_scope(limited) as session:
        ensure_defaults(session)
    yield limited
    db.engine_of(limited).dispose()


def test_staff_login_is_rate_limited_and_answers_unknown_names_alike(limited_app: Flask,
                                                                    make_member: Callable[..., Any]) -> None:
    make_member("bert")
    client = limited_app.test_client()
    token = csrf(client, "/nl/handler/login")
    pages = set()
    statuses = []
    for name in ("bert", "ghost", "bert", "ghost", "bert"):
        response = client.post("/nl/handler/login", data={
            "csrf_token": token, "username": name, "password": "wrong password here", "code": "123456"})
        statuses.append(response.status_code)
        if response.status_code == 200:
            pages.add(re.sub(r'value="[^"]*"', "", response.get_data(as_text=True)))
    assert statuses == [200, 200, 200, 200, 429]
    assert len(pages) == 1 and "Inloggen mislukt" in next(iter(pages))
