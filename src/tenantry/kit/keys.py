"""API keys: generation, the keyed hash that is all we store, masking, and friendly names."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum

from tenantry.kit.ids import NANO_ALPHABET

KEY_BODY_LENGTH = 32


class KeyKind(StrEnum):
    """What a key authenticates as; the value is the key's visible prefix."""

    organization = "oak"
    project = "ak"
    user = "uak"


def generate(kind: KeyKind) -> str:
    """A new plaintext key: prefix + 32 base62 characters (~190 bits)."""
    return f"{kind.value}_" + "".join(secrets.choice(NANO_ALPHABET) for _ in range(KEY_BODY_LENGTH))


def kind_of(plaintext: str) -> KeyKind | None:
    """The kind a well-formed key claims by its prefix, or None when it is malformed."""
    prefix, _, body = plaintext.partition("_")
    if len(body) != KEY_BODY_LENGTH or not all(character in NANO_ALPHABET for character in body):
        return None
    try:
        return KeyKind(prefix)
    except ValueError:
        return None


def digest(pepper: bytes, plaintext: str) -> str:
    """HMAC-SHA256 of the key under the server's pepper: the only form a key is stored in."""
    return hmac.new(pepper, plaintext.encode(), hashlib.sha256).hexdigest()


def mask(kind: KeyKind, last4: str) -> str:
    """How a stored key is shown after creation: `ak_**` + its last four characters."""
    return f"{kind.value}_**{last4}"


_ADJECTIVES = (
    "amber azure bold brave bright calm clever cosmic crisp daring eager epic fancy fierce "
    "gentle golden grand happy humble jolly keen lively lucky mellow merry mighty nimble noble "
    "polite proud quick quiet rapid rustic shiny silent sleek snappy solar spry steady sunny "
    "swift tidy vivid witty zesty"
).split()
_NOUNS = (
    "anchor avatar badger beacon bison canyon comet condor cedar delta ember falcon fjord "
    "galaxy glacier harbor heron island jaguar kestrel lagoon lantern lynx maple meadow meteor "
    "nebula otter panda pebble pioneer quartz raven reef river rocket sparrow summit tiger "
    "tundra voyager walrus willow zephyr"
).split()


def friendly_name() -> str:
    """A two-word snake_case name for keys nobody named, like Composio's `epic_avatar`."""
    return f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_NOUNS)}"
