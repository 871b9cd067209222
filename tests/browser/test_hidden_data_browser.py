"""Removing hidden data in Debian's Chromium with JavaScript off: the box is ticked by default, unticking it
is honoured, and the reporter reads per file what happened (receipt page, mailbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..hidden_files import jpeg_with_exif  # noqa: TID252

pytestmark = pytest.mark.browser


def test_photo_cleaned_by_default_and_kept_when_unticked(live_server: str, reader: str, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg_with_exif(make="BrowserMake", model="BrowserModel"))
    second = tmp_path / "tweede.jpg"
    second.write_bytes(jpeg_with_exif(make="SecondMake", model="SecondModel"))

    page.goto(f"{live_server}/nl/melden/misstand")
    box = page.get_by_label("Verborgen gegevens uit mijn bestanden verwijderen (aanbevolen)")
    assert box.is_checked()
    page.get_by_label("Fraude", exact=True).check()
    page.get_by_label("Wat is er gebeurd?").fill("Foto van de bonnetjes.")
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Mijn melding versturen").click()
    files = page.locator("ul.files")
    assert "foto.jpg: Verborgen gegevens verwijderd: GPS-locatie, cameramodel." in files.inner_text()
    code = page.locator("#receipt-code").inner_text().strip()
    passphrase = page.locator("#passphrase").inner_text().strip()

    page.goto(f"{live_server}/nl/brievenbus/inloggen")  # the receipt page sends the reporter to save the codes first
    page.locator("#receipt_code").fill(code)
    page.locator("#passphrase").fill(passphrase)
    page.get_by_role("button", name="Brievenbus openen").click()
    assert "Verborgen gegevens verwijderd: GPS-locatie, cameramodel." in page.content()
    box = page.get_by_label("Verborgen gegevens uit mijn bestanden verwijderen (aanbevolen)")
    assert box.is_checked()
    box.uncheck()
    page.get_by_label("Uw bericht").fill("Nog een foto, zoals hij is.")
    page.locator("input[type=file]").set_input_files(str(second))
    page.get_by_role("button", name="Bericht versturen").click()
    assert "Uw bericht is verstuurd." in page.content()
    thread = page.locator(".message", has_text="Nog een foto, zoals hij is.")
    assert "Bewaard zoals het was, zoals u koos." in thread.inner_text()
