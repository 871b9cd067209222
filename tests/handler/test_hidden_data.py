"""Hidden data removed before anyone sees a file: real files with planted metadata, through the real forms.

Assertions are on bytes: what the handler downloads, what storage, the database, the temp folders, the
tmpfs work folder and the logs hold. Needs Debian's mat2 and bubblewrap (`make test` installs them).
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import Base
from app.services import scrub

from ..hidden_files import docx_with_author, jpeg_with_exif, mp3_with_id3, pdf_with_author, png_bomb  # noqa: TID252
from ..reporter.conftest import credentials  # noqa: TID252
from .conftest import csrf  # noqa: TID252

BOUNDARY = "mk-hidden-data-boundary"
CHECKED = ["no", "yes"]  # what the form sends with its box ticked (a hidden "no" comes first)
UNCHECKED = ["no"]


@pytest.fixture(autouse=True)
def _a_reader(reader: str) -> None:
    """Reports are refused on a channel nobody can read: every test here submits to a channel with a reader."""


@pytest.fixture
def scrub_root(app: Flask) -> Iterator[Path]:
    """A private folder on /dev/shm (tmpfs) as the app's work folder for mat2, so a test can scan it."""
    root = Path(tempfile.mkdtemp(prefix="mk-test-scrub-", dir="/dev/shm"))
    app.config["MELDKLUIS"] = replace(app.config["MELDKLUIS"], scrub_tmp_path=root)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _multipart(fields: list[tuple[str, str]], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A hand-made body (the test client would spool a large one to a temporary file itself)."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields]
    parts += [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
              f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n" for name, content in files]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


def _submit(client: FlaskClient, files: list[tuple[str, bytes]], choice: list[str] | None = CHECKED,
            what: str = "Er wordt gefraudeerd.", lang: str = "nl"):  # type: ignore[no-untyped-def]
    path = f"/{lang}/melden/misstand"
    form = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    fields = [("csrf_token", token.group(1)), ("category", "fraude"), ("what", what)]
    fields += [("recipients", value) for value in re.findall(r'name="recipients" type="checkbox" value="(\w+)"', form)]
    fields += [(scrub.FIELD, value) for value in choice or []]
    body, content_type = _multipart(fields, files)
    return client.post(path, data=body, content_type=content_type)


def _handler_downloads(client: FlaskClient, login, member) -> tuple[str, dict[str, bytes]]:  # type: ignore[no-untyped-def]
    """The handler logs in and opens the only case: its page and every attachment on it, by file name."""
    login(client, member)
    found = re.search(r"MK-[0-9A-Z]{6}", client.get("/nl/handler/").get_data(as_text=True))
    assert found is not None
    reference = found.group(0)
    page = client.get(f"/nl/handler/case/{reference}").get_data(as_text=True)
    files: dict[str, bytes] = {}
    for attachment_id, name in re.findall(rf'/nl/handler/case/{reference}/attachment/(\w+)" download>([^<]+)<', page):
        response = client.get(f"/nl/handler/case/{reference}/attachment/{attachment_id}")
        assert response.status_code == 200
        files[name] = response.data
    return page, files


def _all_bytes(data: bytes) -> bytes:
    """The file's bytes and, for a zip (DOCX), every member's uncompressed bytes."""
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return data + b"".join(archive.read(name) for name in archive.namelist())
    return data


def _tree(root: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in root.rglob("*") if p.is_file()) if root.exists() else b""


def _database(app: Flask) -> bytes:
    """Every value of every row (bytes as they are, the rest as text)."""
    chunks: list[bytes] = []
    with db.engine_of(app).connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                chunks += [bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row]
    return b"\n".join(chunks)


def test_planted_metadata_never_reaches_the_handler_storage_or_logs(
        app: Flask, client: FlaskClient, make_member, login, scrub_root: Path, private_tmp: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    mark = secrets.token_hex(4).upper()
    planted = {
        "make": f"CamMake{mark}", "model": f"CamModel{mark}", "author": f"Auteur{mark}", "company": f"Bedrijf{mark}",
        "artist": f"Artiest{mark}", "title": f"Titel{mark}",
    }
    originals = {
        "foto.jpg": jpeg_with_exif(make=planted["make"], model=planted["model"]),
        "verslag.docx": docx_with_author(author=planted["author"], company=planted["company"],
                                         picture=jpeg_with_exif(make=planted["make"], model=planted["model"])),
        "brief.pdf": pdf_with_author(author=planted["author"], company=planted["company"]),
        "opname.mp3": mp3_with_id3(artist=planted["artist"], title=planted["title"]),
    }
    # The planted values really are in the files as built, and mat2 would find them.
    for name, data in originals.items():
        assert any(value.encode() in _all_bytes(data) for value in planted.values()), name
    anna = make_member("anna")
    caplog.set_level(logging.DEBUG)  # from here on: Pillow itself logs what it writes into the test files

    response = _submit(client, list(originals.items()))
    assert response.status_code == 200
    receipt_page = response.get_data(as_text=True)
    assert "foto.jpg</strong>: Verborgen gegevens verwijderd: GPS-locatie, cameramodel." in receipt_page
    assert re.search(r"verslag.docx</strong>: Verborgen gegevens verwijderd: GPS-locatie, cameramodel, auteur, bedrijf, "
                     r"revisiegeschiedenis",
                     receipt_page)
    assert re.search(r"brief.pdf</strong>: Verborgen gegevens verwijderd: auteur", receipt_page)
    assert re.search(r"opname.mp3</strong>: Verborgen gegevens verwijderd: auteur", receipt_page)
    assert "Bewaard zoals het was" not in receipt_page
    code, words = credentials(receipt_page)

    page, downloads = _handler_downloads(client, login, anna)
    assert set(downloads) == set(originals)
    assert "Verborgen gegevens verwijderd: GPS-locatie, cameramodel." in page
    for value in planted.values():
        assert value not in page
    for name, data in downloads.items():
        everything = _all_bytes(data)
        for value in planted.values():
            assert value.encode() not in everything, (name, value)
    # Still the same kind of file, with its content.
    assert downloads["foto.jpg"].startswith(b"\xff\xd8\xff") and downloads["brief.pdf"].startswith(b"%PDF")
    assert b"Verslag van de vergadering." in _all_bytes(downloads["verslag.docx"])
    assert b"\xff\xfb\x90" in downloads["opname.mp3"]

    # The reporter reads the same words in the mailbox.
    mailbox = app.test_client()
    token = csrf(mailbox, "/nl/brievenbus/inloggen")
    assert mailbox.post("/nl/brievenbus/inloggen", data={"csrf_token": token, "receipt_code": code,
                                                         "passphrase": words}).status_code == 303
    assert "Verborgen gegevens verwijderd: GPS-locatie, cameramodel." in mailbox.get("/nl/brievenbus").get_data(
        as_text=True)

    # Canary scan: no planted value, and no part of an original, anywhere at rest or in the logs.
    at_rest = (_database(app) + _tree(app.config["MELDKLUIS"].instance_path) + _tree(private_tmp)
               + _tree(scrub_root))
    for value in planted.values():
        assert value.encode() not in at_rest and value not in caplog.text, value
    for data in originals.values():
        assert data[-64:] not in at_rest and data[:256] not in at_rest
    assert b'"kinds"' not in at_rest  # the note is sealed, not in clear
    assert list(scrub_root.iterdir()) == []  # every work folder removed at once


def _reporter_after_submit(app: Flask, client: FlaskClient, files: list[tuple[str, bytes]],
                           choice: list[str] | None = CHECKED) -> tuple[str, FlaskClient]:
    response = _submit(client, files, choice)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    code, words = credentials(html)
    mailbox = app.test_client()
    token = csrf(mailbox, "/nl/brievenbus/inloggen")
    assert mailbox.post("/nl/brievenbus/inloggen", data={"csrf_token": token, "receipt_code": code,
                                                         "passphrase": words}).status_code == 303
    return html, mailbox


def test_mailbox_upload_is_cleaned_and_the_reporter_told(app: Flask, client: FlaskClient, make_member, login,
                                                         scrub_root: Path) -> None:
    anna = make_member("anna")
    _, mailbox = _reporter_after_submit(app, client, [])
    photo = jpeg_with_exif(make="MailboxMake", model="MailboxModel")
    token = csrf(mailbox, "/nl/brievenbus")
    body, content_type = _multipart([("csrf_token", token), ("body", "Nog een foto."), (scrub.FIELD, "no"),
                                     (scrub.FIELD, "yes")], [("nog.jpg", photo)])
    assert mailbox.post("/nl/brievenbus/bericht", data=body, content_type=content_type).status_code == 303
    assert "GPS-locatie, cameramodel" in mailbox.get("/nl/brievenbus").get_data(as_text=True)
    page, downloads = _handler_downloads(client, login, anna)
    assert b"MailboxMake" not in downloads["nog.jpg"] and b"MailboxModel" not in downloads["nog.jpg"]
    assert "Verborgen gegevens verwijderd: GPS-locatie, cameramodel." in page


def test_unticked_box_keeps_the_file_and_every_form_keeps_the_choice(app: Flask, client: FlaskClient,
                                                                     make_member, login, scrub_root: Path) -> None:
    anna = make_member("anna")
    box = re.compile(r'<input type="checkbox" id="remove_hidden_data"[^>]*>')
    first = box.search(client.get("/nl/melden/misstand").get_data(as_text=True))
    assert first is not None and "checked" in first.group(0)  # on by default
    # A refused form (no answer to the required question) is shown again with the reporter's choice.
    for choice, ticked in ((UNCHECKED, False), (CHECKED, True)):
        again = _submit(client, [], choice, what="")
        assert again.status_code == 400
        shown = box.search(again.get_data(as_text=True))
        assert shown is not None and ("checked" in shown.group(0)) is ticked

    photo = jpeg_with_exif(make="KeptMake", model="KeptModel")
    html, _ = _reporter_after_submit(app, client, [("bewaard.jpg", photo)], UNCHECKED)
    assert "bewaard.jpg</strong>: Bewaard zoals het was, zoals u koos." in html
    page, downloads = _handler_downloads(client, login, anna)
    assert downloads["bewaard.jpg"] == photo
    assert "de melder koos ervoor verborgen gegevens niet te verwijderen" in page


def test_a_client_that_sends_no_choice_gets_the_safe_default(app: Flask, client: FlaskClient,
                                                             scrub_root: Path) -> None:
    html, _ = _reporter_after_submit(app, client, [("foto.jpg", jpeg_with_exif(make="M", model="N"))], None)
    assert "foto.jpg</strong>: Verborgen gegevens verwijderd: GPS-locatie, cameramodel." in html


def test_unsupported_type_is_stored_as_it_came_with_a_notice(app: Flask, client: FlaskClient, make_member, login,
                                                             scrub_root: Path) -> None:
    anna = make_member("anna")
    data = b"\x00\x01 export van het systeem " + secrets.token_bytes(64)
    response = _submit(client, [("export.xyz", data)], lang="en")
    html = response.get_data(as_text=True)
    assert "export.xyz</strong>: Kept as it came: hidden data cannot be removed from this type of file." in html
    assert "may still show who made it" in html
    _, downloads = _handler_downloads(client, login, anna)
    assert downloads["export.xyz"] == data


def test_a_work_folder_that_is_not_tmpfs_is_refused(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    on_disk = tmp_path / "not-ram"
    on_disk.mkdir()
    assert not scrub.is_tmpfs(on_disk) and scrub.is_tmpfs(Path("/dev/shm"))
    app.config["MELDKLUIS"] = replace(app.config["MELDKLUIS"], scrub_tmp_path=on_disk)
    photo = jpeg_with_exif(make="DiskMake", model="DiskModel")
    html, mailbox = _reporter_after_submit(app, client, [("foto.jpg", photo)])
    assert "foto.jpg</strong>: Bewaard zoals het was: de server heeft geen veilige plek in het geheugen" in html
    assert list(on_disk.iterdir()) == []  # no plaintext was written to the disk folder
    assert "geen veilige plek in het geheugen" in mailbox.get("/nl/brievenbus").get_data(as_text=True)


def test_a_file_over_the_cleaning_limit_is_stored_as_it_came(app: Flask, client: FlaskClient,
                                                              scrub_root: Path) -> None:
    photo = jpeg_with_exif(make="BigMake", model="BigModel")
    app.config["MELDKLUIS"] = replace(app.config["MELDKLUIS"], scrub_max_bytes=len(photo) - 1)
    html, mailbox = _reporter_after_submit(app, client, [("groot.jpg", photo)])
    assert "groot.jpg</strong>: Bewaard zoals het was: het bestand is te groot om hier op te schonen." in html
    page = mailbox.get("/nl/brievenbus").get_data(as_text=True)
    assert "te groot om hier op te schonen" in page
    download = re.search(r'href="(/nl/brievenbus/bijlage/\w+)"', page)
    assert download is not None and mailbox.get(download.group(1)).data == photo


def _mat2_processes(marker: str) -> list[int]:
    """Processes left of a mat2 run: bwrap names the work folder, the sandboxed mat2 runs our runner.
    Waits a little (bounded) for killed processes to be reaped."""
    runner = b"libmat2.bubblewrap.run = run"
    for _ in range(50):
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if marker.encode() in cmdline or runner in cmdline:
                    found.append(int(entry.name))
        if not found:
            return []
        time.sleep(0.1)
    return found


def test_without_mat2_files_are_kept_and_the_reporter_told(app: Flask, client: FlaskClient, scrub_root: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scrub, "_mat2", lambda: None)
    photo = jpeg_with_exif(make="NoMat2Make", model="NoMat2Model")
    html, _ = _reporter_after_submit(app, client, [("foto.jpg", photo)])
    assert "foto.jpg</strong>: Bewaard zoals het was: verborgen gegevens verwijderen is op deze server niet" in html


def test_mat2_that_takes_too_long_is_killed_and_the_file_kept(app: Flask, client: FlaskClient,
                                                              scrub_root: Path) -> None:
    app.config["MELDKLUIS"] = replace(app.config["MELDKLUIS"], scrub_timeout_seconds=0.05)
    photo = jpeg_with_exif(make="SlowMake", model="SlowModel")
    started = time.monotonic()
    html, mailbox = _reporter_after_submit(app, client, [("traag.jpg", photo)])
    assert time.monotonic() - started < 10
    assert "traag.jpg</strong>: Bewaard zoals het was: het opschonen duurde te lang." in html
    assert list(scrub_root.iterdir()) == [] and _mat2_processes(str(scrub_root)) == []
    # Kept as it came: the first ciphertext, read back for mat2, is the file that is kept.
    download = re.search(r'href="(/nl/brievenbus/bijlage/\w+)"', mailbox.get("/nl/brievenbus").get_data(as_text=True))
    assert download is not None and mailbox.get(download.group(1)).data == photo


def test_a_decompression_bomb_is_bounded_and_the_next_file_still_cleaned(app: Flask, client: FlaskClient,
                                                                         scrub_root: Path) -> None:
    bomb = png_bomb()  # 17 KB that would need 2.7 GB to decode
    settings = app.config["MELDKLUIS"]
    assert len(bomb) < 64 * 1024 and settings.scrub_memory_bytes <= 1024 ** 3
    started = time.monotonic()
    html, _ = _reporter_after_submit(app, client, [("bom.png", bomb), ("foto.jpg", jpeg_with_exif(make="A",
                                                                                                 model="B"))])
    assert time.monotonic() - started < settings.scrub_timeout_seconds
    assert "bom.png</strong>: Bewaard zoals het was: het opschoonprogramma kon dit bestand niet lezen" in html
    assert "foto.jpg</strong>: Verborgen gegevens verwijderd: GPS-locatie, cameramodel." in html
    assert list(scrub_root.iterdir()) == [] and _mat2_processes(str(scrub_root)) == []


def test_the_choice_and_the_words() -> None:
    assert scrub.wanted(["no", "yes"]) and scrub.wanted([]) and not scrub.wanted(["no"])
    assert scrub.wanted(["no", "on"]) and not scrub.wanted(["no", "no"])  # anything but "no" is the safe side
    show = ("[+] Metadata for file.jpg:\n    GPSLatitude: 52 deg\n    Make: X\n    ExifByteOrder: MM\n"
            "[++] Metadata for docProps/core.xml:\n      dc:creator: Jan\n      cp:revision: 7\n"
            "    creation-date: -1\n")
    assert scrub.kinds_found(show) == ("gps", "device", "author", "revisions")
    assert os.path.basename(scrub.STAGE) == scrub.STAGE  # the staged name is ours, never the reporter's


def test_a_taken_over_mat2_cannot_hand_us_another_file(app: Flask, client: FlaskClient, scrub_root: Path,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mat2 compromised by a hostile file leaves file.cleaned.jpg as a link to a server secret: refused."""
    secret = tmp_path / "secret_key"
    secret.write_bytes(b"SERVER-SECRET-" + secrets.token_hex(16).encode())

    def hostile(self: object, folder: Path, name: str) -> tuple[list[str], dict[str, str], Path]:
        return ["/bin/sh", "-c", f"ln -s {secret} file.cleaned.jpg"], {"PATH": "/usr/bin:/bin"}, folder

    monkeypatch.setattr(scrub._Sandbox, "command", hostile)
    photo = jpeg_with_exif(make="LinkMake", model="LinkModel")
    html, mailbox = _reporter_after_submit(app, client, [("foto.jpg", photo)])
    assert "foto.jpg</strong>: Bewaard zoals het was: het opschoonprogramma kon dit bestand niet lezen" in html
    download = re.search(r'href="(/nl/brievenbus/bijlage/\w+)"', mailbox.get("/nl/brievenbus").get_data(as_text=True))
    assert download is not None and mailbox.get(download.group(1)).data == photo
    assert list(scrub_root.iterdir()) == []


def test_the_sandbox_bounds_what_mat2_may_unpack(scrub_root: Path) -> None:
    """mat2 unpacks archives into TMPDIR with no limit of its own; in the sandbox that is a small tmpfs."""
    bwrap = shutil.which("bwrap")
    assert bwrap is not None and scrub._bwrap_works(bwrap)
    argv = scrub._bwrap_prefix(bwrap, scrub_root, 1 << 20) + [
        "/bin/sh", "-c", 'head -c 4194304 /dev/zero > "$TMPDIR/unpacked"; echo written > /work/done']
    result = subprocess.run(argv, capture_output=True, timeout=60)  # noqa: S603
    assert b"No space left on device" in result.stderr
    assert (scrub_root / "done").read_text() == "written\n"  # the work folder is the one mat2 sees


def test_the_submission_service_cleans_too(app: Flask, client: FlaskClient, make_member, login, make_case,
                                           scrub_root: Path) -> None:
    anna = make_member("anna")
    song = mp3_with_id3(artist="ServiceArtist", title="ServiceTitle")
    receipt = make_case(files=(("opname.mp3", song),))
    assert [(o.name, o.cleaned, o.kinds) for o in receipt.files] == [
        ("opname.mp3", True, ("author", "software", "description"))]
    page, downloads = _handler_downloads(client, login, anna)
    assert b"ServiceArtist" not in downloads["opname.mp3"] and b"ServiceTitle" not in downloads["opname.mp3"]
    assert "Verborgen gegevens verwijderd: auteur, gebruikte software, titels en opmerkingen." in page
