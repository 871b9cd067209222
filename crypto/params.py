"""Format version, the staff Argon2id cost, and why reporter secrets get no stretching: one place to review.

Reporter secrets are not stretched. The receipt code (80 bits, the mailbox's name) and the passphrase (words from
a bundled list, at least 90 bits: 7 words of the EFF list give 90.5) are made by the server from a CSPRNG, never
chosen by a person, so their entropy is known. An attacker holding a copy of the database (salt, public key,
authentication digest) must try passphrases one by one: 2^90 guesses at 10^12 keyed-BLAKE2b runs a second take
about 4 * 10^7 years, and the per-mailbox salt keys every derivation, so one guess tests one mailbox only.
Argon2id would multiply that by a constant (about 10^5 at 30 ms a guess, i.e. 17 bits) that 90 bits do not need,
while making every submission and mailbox login on an anonymous, unauthenticated endpoint cost tens of
milliseconds of CPU and megabytes of memory: a lever for floods and lockouts, and no security. The derivation is
therefore one keyed BLAKE2b per purpose (crypto/reporter.py). Argon2id stays where a human chooses the secret:
staff passwords (HANDLER_KDF).
"""

from dataclasses import dataclass

FORMAT_VERSION = 2
"""First byte of every Meldkluis ciphertext format, checked on opening, so a future format can coexist.

Version 2 derives reporter keys with a keyed hash instead of Argon2id. Version 1 was never released: its
ciphertexts and mailboxes are not opened (DecryptionError, and a mailbox login that fails like a wrong
passphrase).
"""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost (``nacl.pwhash.argon2id.kdf``): passes over memory, and memory in bytes."""

    opslimit: int
    memlimit: int


HANDLER_KDF = KdfParams(opslimit=3, memlimit=64 * 1024 * 1024)
"""For staff passwords: chosen by humans, so they are stretched (~100 ms on the target machine)."""

TEST_KDF = KdfParams(opslimit=1, memlimit=8192)
"""libsodium's minimums, for fast tests only. Never use it for real keys."""
