"""Password hashing (Argon2id) and the password rule."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import UserError

_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters
#: Verified when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")

MIN_LENGTH = 12
MAX_LENGTH = 256


class WeakPassword(UserError):
    """A password the rule refuses."""


def check_password_rule(password: str, username: str) -> None:
    """Refuse passwords that are short, too long, or contain the username."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"The password needs at least {MIN_LENGTH} characters; a few words in a row are easy to remember."
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"The password can have at most {MAX_LENGTH} characters.")
    if username and username.lower() in password.lower():
        raise WeakPassword("The password must not contain the username.")
    if len(set(password)) < 5:
        raise WeakPassword("The password repeats too few different characters.")


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (salted; parameters stored in the hash)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; with no hash, spends the same time and fails."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored_hash)
