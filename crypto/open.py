"""meldkluis-open: open an exported case bundle on an offline machine, with the crypto package alone.

    python -m crypto.open BUNDLE --key-file KEYFILE --out DIR [--recovery-key-file FILE]

The recovery key is asked for at a prompt unless --recovery-key-file is given. The case is written as one
readable text, DIR/case.txt, the way the case page shows it: the report under its question labels, the
thread in order with days and authors, the notes and the list of files; the attachments go to DIR/files/.
Nothing is written unless the whole bundle opened. The words (labels, headings) come from the bundle, in the
language the handler exported in; a bundle without them reads in English with the answers under their keys.
Names in a bundle are chosen by whoever made it, so every name is made safe before it becomes a path, and no
existing file is ever overwritten. Imports only the standard library and crypto.
"""

import argparse
import getpass
import json
import os
import sys
import unicodedata
from pathlib import Path

from crypto.bundle import OpenedCase, OpenedText, load_private_key_file, open_bundle
from crypto.errors import DecryptionError

_MAX_NAME_BYTES = 200
_FORBIDDEN = set('/\\:<>"|?*')  # path separators, and what FAT/NTFS refuse on a USB stick
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}  # controls, bidi overrides, surrogates, private use


def _printable(text: str) -> str:
    # Drops terminal escapes and bidi tricks before a hostile string reaches the screen.
    return "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)


def safe_filename(name: str, fallback: str = "file") -> str:
    """A name that stays a single, visible, ordinary file name inside the output folder."""
    name = unicodedata.normalize("NFC", _printable(name))
    name = "".join("_" if ch in _FORBIDDEN else ch for ch in name)
    name = name.strip().lstrip(". ").rstrip(". ")
    stem, ext = os.path.splitext(name)
    if len(ext.encode("utf-8")) > 20:
        stem, ext = name, ""
    while len((stem + ext).encode("utf-8")) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    if not stem:
        return fallback + ext
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    return stem + ext


def _write_new(directory: Path, name: str, data: bytes) -> Path:
    # O_EXCL: never overwrite, never follow a planted symlink; 0o600: this is plaintext of a report.
    stem, ext = os.path.splitext(name)
    attempt = 1
    while True:
        path = directory / (name if attempt == 1 else f"{stem} ({attempt}){ext}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        except FileExistsError:
            attempt += 1
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return path


# The words of the readable file when the bundle brings none (a bundle of an older server, or a test's).
DEFAULT_LABELS = {
    "title": "Case",
    "heading.report": "Report",
    "heading.identity": "Identity",
    "heading.thread": "Mailbox with the reporter",
    "heading.notes": "Internal notes",
    "heading.files": "Files",
    "author.reporter": "Reporter",
    "author.handler": "Handler",
    "file.report": "with the report",
    "file.message": "with message",
    "none": "(none)",
    "bytes": "bytes",
}


def _word(labels: dict[str, str], key: str, fallback: str = "") -> str:
    # The bundle's word, else the English default, else the raw value (a question key, a message kind).
    return _printable(labels.get(key) or DEFAULT_LABELS.get(key) or fallback or key)


def _block(text: str) -> list[str]:
    # The writer's text, indented under its heading; controls (terminal escapes, bidi) removed line by line.
    return ["    " + _printable(line) for line in text.splitlines() or [""]]


def _heading(title: str) -> list[str]:
    return ["", title, "-" * len(title)]


def _report_lines(text: str, labels: dict[str, str]) -> list[str]:
    # The report is one JSON document of answers; questions in the bundle's order, empty answers left out.
    try:
        answers = json.loads(text)
    except ValueError:
        answers = None
    if not isinstance(answers, dict):
        return _block(text)
    ordered = [k[len("question."):] for k in labels if k.startswith("question.")]
    ordered += [k for k in answers if k not in ordered]
    lines: list[str] = []
    for key in ordered:
        value = answers.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        lines += ["", _word(labels, f"question.{key}", key)]
        lines += _block(labels.get(f"choice.{key}.{value}") or value)
    return lines


def _author(item: OpenedText, labels: dict[str, str]) -> str:
    kind = _word(labels, f"author.{item.meta.author_kind}", item.meta.author_kind)
    return f"{_printable(item.author)} ({kind})" if item.author else kind


def render_case(case: OpenedCase, file_paths: dict[str, str]) -> str:
    """The case as readable text, like the case page; `file_paths` maps a file's row id to where it was written.

    Who wrote a message, its kind and its place come from the authenticated metadata; the days and staff
    names are the bundle's plain words.
    """
    labels = case.labels
    title = f"{_word(labels, 'title')} {_printable(labels.get('reference', case.case_id))}"
    lines = [title, "=" * len(title)]
    positions: dict[str, int] = {}
    for item in case.texts:
        if item.kind == "report":
            lines += _heading(_word(labels, "heading.report"))
            lines += [_printable(item.day)] if item.day else []
            lines += _report_lines(item.text, labels)
    for item in case.texts:
        if item.kind == "identity":
            lines += _heading(_word(labels, "heading.identity")) + _block(item.text)
    lines += _heading(_word(labels, "heading.thread"))
    thread = sorted((t for t in case.texts if t.kind == "message"), key=lambda t: t.meta.position)
    for item in thread:
        positions[item.row_id] = item.meta.position
        about = [f"[{item.meta.position}]", _printable(item.day), _author(item, labels)]
        if item.meta.message_kind and item.meta.message_kind != "message":
            about.append(_word(labels, f"kind.{item.meta.message_kind}", item.meta.message_kind))
        lines += ["", " · ".join(part for part in about if part)] + _block(item.text)
    if not thread:
        lines.append(_word(labels, "none"))
    notes = [t for t in case.texts if t.kind == "note"]
    lines += _heading(_word(labels, "heading.notes"))
    for item in notes:
        lines += ["", " · ".join(part for part in (_printable(item.day), _author(item, labels)) if part)]
        lines += _block(item.text)
    if not notes:
        lines.append(_word(labels, "none"))
    lines += _heading(_word(labels, "heading.files"))
    for file in case.files:
        where = (f"{_word(labels, 'file.message')} [{positions[file.meta.message_id]}]"
                 if file.meta.message_id in positions else _word(labels, "file.report"))
        about = [_printable(file_paths.get(file.row_id, file.name)), f"{len(file.data)} {_word(labels, 'bytes')}", where,
                 _printable(file.day)]
        lines.append(" · ".join(part for part in about if part))
    if not case.files:
        lines.append(_word(labels, "none"))
    return "\n".join(lines) + "\n"


def write_case(case: OpenedCase, out_dir: Path) -> list[Path]:
    """Write the readable case file and the attachments below ``out_dir``; returns the paths written."""
    files_dir = out_dir / "files"
    files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    file_paths: dict[str, str] = {}
    for file in case.files:
        path = _write_new(files_dir, safe_filename(file.name), file.data)
        file_paths[file.row_id] = f"files/{path.name}"
        written.append(path)
    text = render_case(case, file_paths)
    written.insert(0, _write_new(out_dir, "case.txt", text.encode("utf-8")))
    return written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meldkluis-open", description="Open an exported Meldkluis case bundle offline."
    )
    parser.add_argument("bundle", type=Path, help="the exported case bundle (.json)")
    parser.add_argument("--key-file", type=Path, required=True, help="your exported private key file")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the opened case into")
    parser.add_argument(
        "--recovery-key-file", type=Path, help="read the recovery key from this file instead of a prompt"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the tool; returns 0 on success, 2 if the key file or bundle does not open, 1 on a file error."""
    args = _parser().parse_args(argv)
    stage = "read the input files"
    try:
        key_file = args.key_file.read_bytes()
        bundle = args.bundle.read_bytes()
        if args.recovery_key_file is not None:
            # A garbled file should read as a malformed key (DecryptionError), not crash the tool.
            recovery_key = args.recovery_key_file.read_bytes().decode("utf-8", errors="replace")
        else:
            recovery_key = getpass.getpass("Recovery key: ")
        stage = "unlock the key file (is the recovery key right?)"
        private_key = load_private_key_file(key_file, recovery_key)
        stage = "open the bundle (is it for this key, and undamaged?)"
        case = open_bundle(bundle, private_key)
        stage = "write the opened case"
        written = write_case(case, args.out)
    except DecryptionError as exc:
        print(f"meldkluis-open: could not {stage}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"meldkluis-open: could not {stage}: {exc}", file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("meldkluis-open: aborted", file=sys.stderr)
        return 1
    print(f"Opened case {_printable(case.case_id)}: {len(case.texts)} texts, {len(case.files)} files.")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
