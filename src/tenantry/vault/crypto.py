"""AES-256-GCM with a random 96-bit nonce: the one primitive the vault uses for everything."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def encrypt(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """The nonce followed by the ciphertext and its tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def decrypt(key: bytes, sealed: bytes, associated_data: bytes) -> bytes | None:
    """The plaintext, or None when `sealed` was not made by `encrypt` with this key and data."""
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        return None
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated_data)
    except InvalidTag:
        return None
