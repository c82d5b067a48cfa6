"""Public identifiers: a type prefix plus a nano id, as Composio spells them (`pr_1a2b3c4d5e6f`)."""

from __future__ import annotations

import os
import secrets
import time

NANO_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NANO_LENGTH = 12
_ALPHABET_SIZE = len(NANO_ALPHABET)  # 62
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def nano_id(prefix: str, length: int = NANO_LENGTH) -> str:
    """`prefix_` + `length` random alphanumeric characters (~71 bits for 12)."""
    characters: list[str] = []
    while len(characters) < length:
        # One read of the OS's randomness for the whole id (secrets.choice makes one per character);
        # a byte's low six bits pick a character, and the two values past the alphabet are skipped,
        # so every character is equally likely.
        characters.extend(NANO_ALPHABET[bits] for byte in secrets.token_bytes(length + 4) if (bits := byte & 63) < _ALPHABET_SIZE)
    return f"{prefix}_" + "".join(characters[:length])


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
