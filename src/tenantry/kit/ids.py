"""Public identifiers: a type prefix plus a nano id, as Composio spells them (`pr_1a2b3c4d5e6f`)."""

from __future__ import annotations

import os
import secrets
import time

NANO_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NANO_LENGTH = 12
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def nano_id(prefix: str, length: int = NANO_LENGTH) -> str:
    """`prefix_` + `length` random alphanumeric characters (~71 bits for 12)."""
    return f"{prefix}_" + "".join(secrets.choice(NANO_ALPHABET) for _ in range(length))


def ulid() -> str:
    """A 26-character ULID: 48 bits of milliseconds then 80 random bits, sortable by time."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def looks_like(prefix: str, value: str, length: int = NANO_LENGTH) -> bool:
    """Whether `value` has the shape of an id minted by nano_id(prefix)."""
    body = value.removeprefix(f"{prefix}_")
    return (
        len(value) == len(prefix) + 1 + length
        and value.startswith(f"{prefix}_")
        and all(character in NANO_ALPHABET for character in body)
    )
