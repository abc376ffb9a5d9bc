"""Public tracking references: unguessable, readable over the phone.

Every request has two, both random and written in Crockford's base32 (no I, L, O, U):

- the long reference (``public_ref``): 128 random bits, 26 characters in four groups of five
  and one of six; Open311's ``service_request_id``;
- the short reference (``short_ref``): 50 random bits, 10 characters (shown ``K7M3Q-X9TBA``,
  the dash optional when typed), short enough to read to a caller; unique per city (a unique
  index; a collision draws again). Nothing about either reveals another request's, so a public
  lookup cannot be enumerated the way sequential numbers can (README: Service requests).
"""

from __future__ import annotations

import re
import secrets

import numpy as np

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_reference() -> str:
    """A fresh reference such as ``7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK``."""
    number = secrets.randbits(128)
    return _grouped("".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(26)))


def new_references(count: int) -> list[str]:
    """``count`` fresh references at once (a bulk import), with the same 128 random bits each."""
    words = np.frombuffer(secrets.token_bytes(16 * count), dtype=np.uint64).reshape(count, 2)
    low, high = words[:, 0], words[:, 1]
    digits = np.empty((count, 26), dtype=np.uint8)
    for i in range(26):  # digit i holds bits 5i..5i+4 of the 128-bit number, as in new_reference
        shift = 5 * i
        if shift + 5 <= 64:
            digits[:, i] = (low >> np.uint64(shift)) & np.uint64(31)
        elif shift >= 64:
            digits[:, i] = (high >> np.uint64(shift - 64)) & np.uint64(31)
        else:
            digits[:, i] = (low >> np.uint64(shift)) | ((high << np.uint64(64 - shift)) & np.uint64(31))
    letters = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)[digits]
    dash = np.full((count, 1), ord("-"), dtype=np.uint8)
    grouped = np.hstack(
        [
            letters[:, 0:5],
            dash,
            letters[:, 5:10],
            dash,
            letters[:, 10:15],
            dash,
            letters[:, 15:20],
            dash,
            letters[:, 20:26],
        ]
    )
    text = grouped.tobytes().decode("ascii")
    return [text[30 * k : 30 * k + 30] for k in range(count)]


SHORT_LENGTH = 10


def new_short_reference() -> str:
    """A fresh short reference, 10 characters such as ``K7M3QX9TBA`` (50 random bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(SHORT_LENGTH))


def new_short_references(count: int) -> list[str]:
    """``count`` fresh short references at once (a bulk import); duplicates are possible, as with one at a time."""
    digits = np.frombuffer(secrets.token_bytes(SHORT_LENGTH * count), dtype=np.uint8).reshape(count, SHORT_LENGTH)
    letters = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)[digits & 31]
    text = letters.tobytes().decode("ascii")
    return [text[SHORT_LENGTH * k : SHORT_LENGTH * (k + 1)] for k in range(count)]


def show_short_reference(short_ref: str | None) -> str:
    """How a short reference is written for people: ``K7M3Q-X9TBA`` (two groups of five)."""
    if not short_ref:
        return ""
    return f"{short_ref[:5]}-{short_ref[5:]}"


def normalize_short_reference(typed: str) -> str | None:
    """The stored form of a typed short reference (case, dashes, spaces, O/0 and I/L/1 forgiven), or None."""
    if not isinstance(typed, str):
        return None
    compact = re.sub(r"[\s-]", "", typed.upper()).translate(_CONFUSABLE)
    if len(compact) != SHORT_LENGTH or any(c not in ALPHABET for c in compact):
        return None
    return compact


def _grouped(digits: str) -> str:
    return "-".join((digits[0:5], digits[5:10], digits[10:15], digits[15:20], digits[20:26]))


def normalize_reference(typed: str) -> str | None:
    """The canonical form of a typed reference (case, dashes, O/0 and I/L/1 forgiven), or None."""
    if not isinstance(typed, str):
        return None
    compact = re.sub(r"[\s-]", "", typed.upper()).translate(_CONFUSABLE)
    if len(compact) != 26 or any(c not in ALPHABET for c in compact):
        return None
    return _grouped(compact)
