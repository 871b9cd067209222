"""Offline export: bundles, private key files, and the meldkluis-open tool (in-process and as a process)."""

import base64
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import crypto
from crypto import (
    CHUNK_SIZE,
    FORMAT_VERSION,
    NO_META,
    BundleFile,
    BundleText,
    DecryptionError,
    FileEncryptor,
    KeyPair,
    Meta,
    export_private_key_file,
    generate_keypair,
    load_private_key_file,
    new_case_key,
    new_file_key,
    new_recovery_key,
    open_bundle,
    padme,
    seal_case_key,
    seal_file_key,
    seal_text,
    write_bundle,
)
from crypto.open import main, safe_filename

REPO_ROOT = Path(crypto.__file__).resolve().parent.parent
CASE_ID = "c-5f2a"


@dataclass
class Case:
    handler: KeyPair
    bundle: bytes


def make_bundle(handler: KeyPair, files: dict[str, bytes], texts: dict[tuple[str, str], str]) -> bytes:
    # What the server does: it holds only ciphertext and the handler's existing sealed case key.
    case_key = new_case_key()
    sealed_texts = [
        BundleText(kind, row_id, seal_text(case_key, text, case_id=CASE_ID, kind=kind, row_id=row_id,
                                           meta=META.get(kind, NO_META)), META.get(kind, NO_META))
        for (kind, row_id), text in texts.items()
    ]
    sealed_files = []
    for index, (name, data) in enumerate(files.items()):
        row_id, file_key, binding, stream = (
            f"f{index}",
            new_file_key(),
            f"{CASE_ID}/f{index}".encode(),
            io.BytesIO(),
        )
        encryptor = FileEncryptor(stream, file_key, binding)
        encryptor.write(data)
        size = encryptor.close_padded()
        sealed_files.append(
            BundleFile(
                row_id=row_id,
                name_sealed=seal_text(case_key, name, case_id=CASE_ID, kind="attachment-name", row_id=row_id,
                                      meta=FILE_META),
                file_key_sealed=seal_file_key(case_key, file_key, size, case_id=CASE_ID, row_id=row_id,
                                              meta=FILE_META),
                binding=binding,
                data=stream.getvalue(),
                meta=FILE_META,
            )
        )
    return write_bundle(CASE_ID, seal_case_key(case_key, handler.public, CASE_ID), sealed_texts, sealed_files)


META = {"report": Meta(author_kind="reporter"), "message": Meta("handler", "message", 1)}
FILE_META = Meta(author_kind="reporter")
TEXTS = {
    ("report", "r1"): "Er wordt gefraudeerd bij inkoop.",
    ("message", "m1"): "Dank u, we kijken ernaar. ✓",
}
FILES = {"scan.pdf": b"%PDF-1.7 " + os.urandom(70_000), "leeg.txt": b""}


@pytest.fixture(scope="module")
def case() -> Case:
    handler = generate_keypair()
    return Case(handler, make_bundle(handler, FILES, TEXTS))


def test_bundle_round_trip(case: Case) -> None:
    opened = open_bundle(case.bundle, case.handler.private)
    assert opened.case_id == CASE_ID
    assert {(t.kind, t.row_id): t.text for t in opened.texts} == TEXTS
    assert {f.name: f.data for f in opened.files} == FILES
    assert {t.kind: t.meta for t in opened.texts} == META


def test_bundle_files_are_padded_and_keep_their_size_inside(case: Case) -> None:
    document = json.loads(case.bundle)
    stored = {len(base64.b64decode(f["data"])) for f in document["files"]}
    scan = len(FILES["scan.pdf"])
    assert stored == {25 + 17, 25 + padme(scan) + (padme(scan) // CHUNK_SIZE + 1) * 17}


def test_bundle_holds_only_ciphertext(case: Case) -> None:
    document = json.loads(case.bundle)
    assert document["format"] == "meldkluis-bundle" and document["version"] == FORMAT_VERSION
    for plaintext in [*TEXTS.values(), *FILES]:
        assert plaintext.encode() not in case.bundle
    assert FILES["scan.pdf"][:64] not in base64.b64decode(document["files"][0]["data"])


def test_bundle_for_another_handler_does_not_open(case: Case) -> None:
    with pytest.raises(DecryptionError):
        open_bundle(case.bundle, generate_keypair().private)


def _tampered(bundle: bytes, edit: str) -> bytes:
    document = json.loads(bundle)
    if edit == "case_id":
        document["case_id"] = "c-other"
    elif edit == "swap_rows":
        texts = document["texts"]
        texts[0]["row_id"], texts[1]["row_id"] = texts[1]["row_id"], texts[0]["row_id"]
    elif edit == "kind":
        document["texts"][0]["kind"] = "note"
    elif edit == "author":
        document["texts"][1]["meta"]["author_kind"] = "reporter"
    elif edit == "message_kind":
        document["texts"][1]["meta"]["message_kind"] = "feedback"
    elif edit == "position":
        document["texts"][1]["meta"]["position"] = 2
    elif edit == "file_message":
        document["files"][0]["meta"]["message_id"] = "m1"
    elif edit == "meta_missing":
        del document["texts"][0]["meta"]
    elif edit == "pad_file":
        raw = base64.b64decode(document["files"][1]["data"])
        document["files"][1]["data"] = base64.b64encode(raw + raw[-17:]).decode()
    elif edit == "binding":
        document["files"][0]["binding"] = base64.b64encode(b"c-5f2a/f1").decode()
    elif edit == "swap_file_keys":
        files = document["files"]
        files[0]["file_key_sealed"], files[1]["file_key_sealed"] = (
            files[1]["file_key_sealed"],
            files[0]["file_key_sealed"],
        )
    elif edit == "truncate_file":
        raw = base64.b64decode(document["files"][0]["data"])
        document["files"][0]["data"] = base64.b64encode(raw[: 25 + 65536 + 17]).decode()
    elif edit == "version":
        document["version"] = 1
    elif edit == "version_true":
        document["version"] = True
    elif edit == "format":
        document["format"] = "something-else"
    elif edit == "not_base64":
        document["texts"][0]["sealed"] = "***"
    elif edit == "missing":
        del document["sealed_case_key"]
    elif edit == "texts_not_list":
        document["texts"] = {"a": 1}
    elif edit == "item_not_object":
        document["files"] = ["x"]
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "edit",
    [
        "case_id",
        "swap_rows",
        "kind",
        "author",
        "message_kind",
        "position",
        "file_message",
        "meta_missing",
        "binding",
        "swap_file_keys",
        "truncate_file",
        "version",
        "version_true",
        "format",
        "not_base64",
        "missing",
        "texts_not_list",
        "item_not_object",
    ],
)
def test_tampered_bundle_is_rejected(case: Case, edit: str) -> None:
    with pytest.raises(DecryptionError):
        open_bundle(_tampered(case.bundle, edit), case.handler.private)


@pytest.mark.parametrize("junk", [b"", b"not json", b"\xff\xfe", b"[]", b"null", b'{"format": 1}'])
def test_malformed_bundle_is_rejected(case: Case, junk: bytes) -> None:
    with pytest.raises(DecryptionError):
        open_bundle(junk, case.handler.private)


def test_private_key_file_round_trip() -> None:
    handler, recovery = generate_keypair(), new_recovery_key()
    key_file = export_private_key_file(handler.private, recovery)
    assert handler.private.hex().encode() not in key_file
    assert json.loads(key_file)["format"] == "meldkluis-private-key"
    assert load_private_key_file(key_file, recovery) == handler.private
    assert load_private_key_file(key_file, recovery.lower().replace("-", " ")) == handler.private
    with pytest.raises(DecryptionError):
        load_private_key_file(key_file, new_recovery_key())
    with pytest.raises(DecryptionError):
        load_private_key_file(key_file, "not a recovery key")
    document = json.loads(key_file)
    document["public_key"] = base64.b64encode(generate_keypair().public).decode()
    with pytest.raises(DecryptionError):
        load_private_key_file(json.dumps(document).encode(), recovery)


# --- the meldkluis-open tool -------------------------------------------------------------------------------


@pytest.fixture
def exported(tmp_path: Path, case: Case) -> dict[str, Path]:
    recovery = new_recovery_key()
    paths = {
        "bundle": tmp_path / "case.json",
        "key": tmp_path / "handler.key",
        "recovery": tmp_path / "recovery.txt",
        "out": tmp_path / "opened",
    }
    paths["bundle"].write_bytes(case.bundle)
    paths["key"].write_bytes(export_private_key_file(case.handler.private, recovery))
    paths["recovery"].write_text(recovery + "\n", encoding="utf-8")
    return paths


def _args(paths: dict[str, Path]) -> list[str]:
    return [
        str(paths["bundle"]),
        "--key-file",
        str(paths["key"]),
        "--recovery-key-file",
        str(paths["recovery"]),
        "--out",
        str(paths["out"]),
    ]


def _check_output(out: Path) -> None:
    # A bundle without labels reads in English; a report that is no JSON document is shown as written.
    text = (out / "case.txt").read_text(encoding="utf-8")
    assert f"Report\n------\n    {TEXTS[('report', 'r1')]}\n" in text
    assert f"[1] · Handler\n    {TEXTS[('message', 'm1')]}\n" in text
    assert "files/scan.pdf · 70009 bytes · with the report" in text and "files/leeg.txt · 0 bytes" in text
    assert (out / "files" / "scan.pdf").read_bytes() == FILES["scan.pdf"]
    assert (out / "files" / "leeg.txt").read_bytes() == b""


def test_open_tool_in_process(exported: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(exported)) == 0
    _check_output(exported["out"])
    assert "2 texts, 2 files" in capsys.readouterr().out
    if os.name == "posix":
        assert (exported["out"] / "files" / "scan.pdf").stat().st_mode & 0o077 == 0


def test_open_tool_never_overwrites(exported: dict[str, Path]) -> None:
    assert main(_args(exported)) == 0
    assert main(_args(exported)) == 0
    assert (exported["out"] / "files" / "scan (2).pdf").read_bytes() == FILES["scan.pdf"]
    assert (exported["out"] / "case (2).txt").exists()


def test_open_tool_reads_the_recovery_key_from_a_prompt(
    exported: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    recovery = exported["recovery"].read_text(encoding="utf-8").strip()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": recovery)
    args = [str(exported["bundle"]), "--key-file", str(exported["key"]), "--out", str(exported["out"])]
    assert main(args) == 0
    _check_output(exported["out"])


def test_open_tool_reports_a_wrong_recovery_key(
    exported: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    exported["recovery"].write_text(new_recovery_key(), encoding="utf-8")
    assert main(_args(exported)) == 2
    assert "recovery key" in capsys.readouterr().err
    assert not exported["out"].exists()


def test_open_tool_reports_a_damaged_bundle(
    exported: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    exported["bundle"].write_bytes(_tampered(exported["bundle"].read_bytes(), "truncate_file"))
    assert main(_args(exported)) == 2
    assert "bundle" in capsys.readouterr().err
    assert not exported["out"].exists()  # nothing is written unless everything opened


def test_open_tool_reports_a_missing_file(
    exported: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    exported["bundle"].unlink()
    assert main(_args(exported)) == 1
    assert "meldkluis-open" in capsys.readouterr().err


def test_hostile_names_stay_inside_the_output_folder(tmp_path: Path) -> None:
    handler, recovery = generate_keypair(), new_recovery_key()
    hostile = {
        "../../escape.txt": b"1",
        "/etc/passwd": b"2",
        "..\\..\\win.ini": b"3",
        ".bashrc": b"4",
        "\x1b[31mred\x07.txt": b"5",
        "invoice\u202egpj.exe": b"6",
        "": b"7",
        "..": b"8",
        "CON.txt": b"9",
        "a" * 400 + ".pdf": b"10",
        "same.txt": b"11",
        "same.txt\x00": b"12",
    }
    texts = {("../../report", "../r1"): "x"}
    bundle, key_file = tmp_path / "b.json", tmp_path / "k.key"
    bundle.write_bytes(make_bundle(handler, hostile, texts))
    key_file.write_bytes(export_private_key_file(handler.private, recovery))
    (tmp_path / "rk").write_text(recovery)
    out = tmp_path / "out"
    args = [
        str(bundle),
        "--key-file",
        str(key_file),
        "--recovery-key-file",
        str(tmp_path / "rk"),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert all(
        p.parent in (out, out / "files") for p in written if p not in (bundle, key_file, tmp_path / "rk")
    )
    names = {p.name for p in (out / "files").iterdir()}
    assert len(names) == len(hostile)
    assert all(not n.startswith(".") and "\x1b" not in n and "\u202e" not in n for n in names)
    assert all(len(n.encode()) <= 200 for n in names)
    assert {p.read_bytes() for p in (out / "files").iterdir()} == set(hostile.values())


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("verslag.pdf", "verslag.pdf"),
        ("../../x.txt", "_.._x.txt"),
        ("/etc/passwd", "_etc_passwd"),
        ("...hidden", "hidden"),
        ("  spaced .txt ", "spaced .txt"),
        ("a\x00b\x1b[0m", "ab[0m"),
        ("bidi\u202etxt.exe", "biditxt.exe"),
        ("", "file"),
        ("...", "file"),
        (".pdf", "pdf"),
        ("nul", "_nul"),
        ("Com1.tar.gz", "_Com1.tar.gz"),
        ("C:evil", "C_evil"),
        ("e\u0301.txt", "\u00e9.txt"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_open_tool_as_a_process(exported: dict[str, Path]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "crypto.open", *_args(exported)],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Opened case" in result.stdout
    _check_output(exported["out"])


def test_crypto_imports_nothing_from_the_web_stack() -> None:
    check = (
        "import sys, crypto, crypto.open\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', 'app', 'werkzeug'})\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_bundle_binding_is_recomputed_not_trusted() -> None:
    # A forger seals everything themselves; a file bound to another case and row, consistently, must not open
    # as row f0 of this case.
    handler = generate_keypair()
    case_key, file_key, foreign = new_case_key(), new_file_key(), b"another-case/f9"
    stream = io.BytesIO()
    encryptor = FileEncryptor(stream, file_key, foreign)
    encryptor.write(b"elsewhere")
    size = encryptor.close_padded()
    forged = BundleFile(
        row_id="f0",
        name_sealed=seal_text(case_key, "scan.pdf", case_id=CASE_ID, kind="attachment-name", row_id="f0"),
        file_key_sealed=seal_file_key(case_key, file_key, size, case_id=CASE_ID, row_id="f0"),
        binding=foreign,
        data=stream.getvalue(),
    )
    bundle = write_bundle(CASE_ID, seal_case_key(case_key, handler.public, CASE_ID), [], [forged])
    with pytest.raises(DecryptionError):
        open_bundle(bundle, handler.private)
    document = json.loads(bundle)
    del document["files"][0]["binding"]
    with pytest.raises(DecryptionError):
        open_bundle(json.dumps(document).encode(), handler.private)


def test_readable_case_file_drops_controls_from_the_bundles_plain_words() -> None:
    # Labels, days and names are the bundle's unauthenticated words: they reach the file without terminal
    # escapes or bidi overrides, and a label never changes who wrote a message (the bound metadata does).
    from crypto.bundle import OpenedCase, OpenedText
    from crypto.open import render_case

    case = OpenedCase(
        case_id="c1",
        texts=[
            OpenedText("report", "c1", '{"what": "x", "when": ""}', Meta(author_kind="reporter")),
            OpenedText("message", "m1", "hallo\x1b[2J", Meta("reporter", "message", 1), "2026-\u202e03-02",
                       "\x1b[31mMallory"),
        ],
        labels={"question.what": "Wat\x1b]0;pwn\x07?", "author.reporter": "Melder", "title": "Zaak\u202e"},
    )
    text = render_case(case, {})
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "Wat]0;pwn?\n    x" in text and "when" not in text
    assert "[1] · 2026-03-02 · [31mMallory (Melder)\n    hallo[2J" in text
