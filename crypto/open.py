"""meldkluis-open: open an exported case bundle on an offline machine, with the crypto package alone.

    python -m crypto.open BUNDLE --key-file KEYFILE --out DIR [--recovery-key-file FILE]

The recovery key is asked for at a prompt unless --recovery-key-file is given. Texts are written to
DIR/<kind>-<row_id>.txt (messages: DIR/message-<position>-<author>-<row_id>.txt) and attachments to DIR/files/; nothing is written unless the whole bundle opened.
Names in a bundle are chosen by whoever made it, so every name is made safe before it becomes a path, and no
existing file is ever overwritten. Imports only the standard library and crypto.
"""

import argparse
import getpass
import os
import sys
import unicodedata
from pathlib import Path

from crypto.bundle import OpenedCase, load_private_key_file, open_bundle
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


def write_case(case: OpenedCase, out_dir: Path) -> list[Path]:
    """Write the texts and files of an opened case below ``out_dir``; returns the paths written."""
    files_dir = out_dir / "files"
    files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for item in case.texts:
        # Thread messages sort by their authenticated position and say who wrote them.
        label = f"{item.meta.position:04d}-{item.meta.author_kind}-" if item.meta.position else ""
        name = safe_filename(f"{item.kind}-{label}{item.row_id}", fallback="text") + ".txt"
        written.append(_write_new(out_dir, name, item.text.encode("utf-8")))
    for file in case.files:
        written.append(_write_new(files_dir, safe_filename(file.name), file.data))
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
