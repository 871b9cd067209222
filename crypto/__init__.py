"""Meldkluis cryptography: pure functions over bytes, on libsodium (PyNaCl).

keys     handler key pairs; private-key wraps (password, recovery key, session)
seal     case keys sealed to participants; texts and small blobs sealed under a case key
stream   attachments, streamed through secretstream in 64 KiB chunks
reporter receipt code, passphrase, and the reporter's keys derived from it
bundle   offline export of a case and of a private key; ``python -m crypto.open`` reads them

Every failure to open or verify raises ``DecryptionError``. Nothing here imports the web application.
"""

from crypto.bundle import (
    BundleFile,
    BundleText,
    OpenedCase,
    OpenedFile,
    OpenedText,
    export_private_key_file,
    load_private_key_file,
    open_bundle,
    write_bundle,
)
from crypto.errors import DecryptionError
from crypto.keys import (
    KeyPair,
    derive_password_key,
    generate_keypair,
    new_recovery_key,
    new_salt,
    new_session_key,
    public_key_of,
    recovery_key_to_bytes,
    unwrap_private_key,
    wrap_private_key,
)
from crypto.params import FORMAT_VERSION, HANDLER_KDF, TEST_KDF, KdfParams
from crypto.reporter import (
    MAILBOX_SALT_BYTES,
    PASSPHRASE_WORDS,
    ReporterKeys,
    auth_key_digest,
    derive_reporter_keys,
    new_mailbox_salt,
    new_passphrase,
    new_receipt_code,
    normalize_passphrase,
    normalize_receipt_code,
    passphrase_entropy_bits,
    receipt_lookup_hash,
    verify_auth_key,
)
from crypto.seal import (
    new_case_key,
    open_bytes,
    open_case_key,
    open_text,
    padded_length,
    seal_bytes,
    seal_case_key,
    seal_text,
)
from crypto.stream import (
    CHUNK_SIZE,
    FileEncryptor,
    ciphertext_size,
    decrypt_file,
    encrypt_file,
    iter_decrypted_file,
    new_file_key,
)

__all__ = [
    "CHUNK_SIZE",
    "FORMAT_VERSION",
    "HANDLER_KDF",
    "MAILBOX_SALT_BYTES",
    "PASSPHRASE_WORDS",
    "TEST_KDF",
    "BundleFile",
    "BundleText",
    "DecryptionError",
    "FileEncryptor",
    "KdfParams",
    "KeyPair",
    "OpenedCase",
    "OpenedFile",
    "OpenedText",
    "ReporterKeys",
    "auth_key_digest",
    "ciphertext_size",
    "decrypt_file",
    "derive_password_key",
    "derive_reporter_keys",
    "encrypt_file",
    "export_private_key_file",
    "generate_keypair",
    "iter_decrypted_file",
    "load_private_key_file",
    "new_case_key",
    "new_file_key",
    "new_mailbox_salt",
    "new_passphrase",
    "new_receipt_code",
    "new_recovery_key",
    "new_salt",
    "new_session_key",
    "normalize_passphrase",
    "normalize_receipt_code",
    "open_bundle",
    "open_bytes",
    "open_case_key",
    "open_text",
    "padded_length",
    "passphrase_entropy_bits",
    "public_key_of",
    "receipt_lookup_hash",
    "recovery_key_to_bytes",
    "seal_bytes",
    "seal_case_key",
    "seal_text",
    "unwrap_private_key",
    "verify_auth_key",
    "wrap_private_key",
    "write_bundle",
]
