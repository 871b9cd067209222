"""The one exception that every failed open, unwrap or verify raises."""


class DecryptionError(Exception):
    """A ciphertext could not be opened: wrong key, wrong place, tampered, truncated or malformed.

    Callers need only this one type. Its message never contains key material or plaintext, and it is
    raised ``from None`` so that no underlying exception (which might hold plaintext) is chained to it.
    """
