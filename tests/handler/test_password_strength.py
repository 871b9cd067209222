"""Staff passwords are judged by a strength estimate (zxcvbn), not by a short list of forbidden ones."""

from __future__ import annotations

import pytest
from flask import Flask

from app.services import accounts


@pytest.mark.parametrize("password", ["Password12345!", "qwertyuiop123", "1234567890abc", "iloveyou12345",
                                      "welkom01welkom01", "Amsterdam2025!", "meldkluis2025!"])
def test_guessable_passwords_are_refused_with_a_message(app: Flask, password: str) -> None:
    with app.test_request_context("/nl/"):
        problems = accounts.password_problems(password, "anna")
    assert problems == ["Dit wachtwoord is te makkelijk te raden. Gebruik een langere zin of meerdere woorden "
                        "die niet bij elkaar horen."]


@pytest.mark.parametrize("password", ["a long enough password 123", "Kwispelende-zeehond-op-de-Waddendijk-1953",
                                      "x" * 20 + "ù" * 300])
def test_strong_passwords_pass_and_length_is_bounded(app: Flask, password: str) -> None:
    with app.test_request_context("/en/"):
        problems = accounts.password_problems(password, "anna")
    assert problems == ([] if len(password) <= accounts.MAX_PASSWORD_LENGTH else ["Use at most 256 characters."])


def test_user_name_inside_the_password_is_refused(app: Flask) -> None:
    with app.test_request_context("/en/"):
        assert accounts.password_problems("my name is Annabel and I like tea", "annabel") == [
            "This password is too common or contains your user name."]
