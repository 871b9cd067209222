"""The reporter's way in each of the six languages, JavaScript off: start, a report with a photo, the receipt,
the mailbox. Arabic is laid out right to left (dir, and where the header's parts land), at 390 and 1,280 px
(screenshots kept in pytest's tmp folder for a person to look at)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.i18n import LANGUAGES, translate
from crypto.reporter import wordlist

from ..hidden_files import jpeg_with_exif  # noqa: TID252

pytestmark = pytest.mark.browser

WORDS_OF = {"nl": "nl", "en": "en", "fr": "fr", "es": "es", "pl": "en", "ar": "en"}


def _shoot(page, folder: Path, lang: str, name: str) -> None:  # type: ignore[no-untyped-def]
    if lang == "ar":
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
            page.screenshot(path=str(folder / f"ar-{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_start_to_mailbox_with_a_photo_in_each_language(live_server: str, page, tmp_path: Path, reader: str,  # type: ignore[no-untyped-def]
                                                        lang: str) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server}/{lang}/")
    root = page.locator("html")
    assert root.get_attribute("lang") == lang
    assert root.get_attribute("dir") == ("rtl" if lang == "ar" else None)
    assert page.evaluate("getComputedStyle(document.body).direction") == ("rtl" if lang == "ar" else "ltr")
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg_with_exif(make="TaalMerk", model="TaalModel"))  # a real JPEG with GPS and camera fields
    _shoot(page, tmp_path, lang, "start")
    if lang == "ar":  # right to left: the name stands at the right, the language switch at the left
        page.set_viewport_size({"width": 1280, "height": 900})
        brand, switch = page.locator(".brand").bounding_box(), page.locator("nav.lang").bounding_box()
        assert brand["x"] > switch["x"] + switch["width"] - 1

    page.locator(f"main a[href='/{lang}/melden']").first.click()
    page.locator(f"a[href='/{lang}/melden/misstand']").click()
    page.locator("#category-0").check()
    page.locator("#what").fill(f"Rapport {lang}: facturen dubbel betaald.")
    page.locator("input[type=file]").set_input_files(str(photo))
    _shoot(page, tmp_path, lang, "submit")
    page.locator("form[enctype] button[type=submit]").click()

    assert page.locator("h1").inner_text() == translate("Your report has been received", lang)
    code = page.locator("#receipt-code").inner_text().strip()
    passphrase = page.locator("#passphrase").inner_text().strip()
    assert page.locator("#receipt-code").get_attribute("dir") == "ltr"
    assert set(passphrase.split()) <= set(wordlist(WORDS_OF[lang]))
    cleaned = page.locator("ul.files").inner_text()  # hidden data removed by default, said in the page's language
    assert "foto.jpg" in cleaned and translate("GPS location", lang) in cleaned
    assert (page.locator("#passphrase-language").count() == 1) == (WORDS_OF[lang] != lang)
    _shoot(page, tmp_path, lang, "receipt")
    page.locator("input[name=written]").check()
    page.locator("form.check-step button[type=submit]").click()

    page.locator("#receipt_code").fill(code)
    page.locator("#passphrase").fill(passphrase)
    page.locator("main form button[type=submit]").click()
    page.locator("#thread").wait_for()
    assert page.locator("h1").inner_text() == translate("Your mailbox", lang)
    assert f"Rapport {lang}: facturen dubbel betaald." in page.content()
    assert page.get_by_role("link", name="foto.jpg").count() == 1
    _shoot(page, tmp_path, lang, "mailbox")
    assert requests and all(url.startswith(live_server) for url in requests)
    if lang == "ar":
        assert len(list(tmp_path.glob("ar-*.png"))) == 8
