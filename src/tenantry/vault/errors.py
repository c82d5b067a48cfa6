"""What can go wrong opening a secret.

These are not AppErrors on purpose: they mean a bug, tampering or a misconfigured worker, never
something the caller did, so they reach the generic handler, which logs them and answers a bare
500. Their messages name projects, contexts and key ids, never a secret or a key.
"""

from __future__ import annotations


class VaultError(Exception):
    pass


class MasterKeyInvalid(VaultError):
    """A configured master key (environment or key file) is not 32 bytes of base64."""


class MasterKeyUnavailable(VaultError):
    """A data key is wrapped under a master key this process does not have."""


class SecretUnreadable(VaultError):
    """A sealed value or wrapped key failed authentication: wrong project, context or key, or altered."""


class DataKeyMissing(VaultError):
    """A project has no data key, so nothing was ever sealed for it, or its key was destroyed."""
