"""Master keys: where they come from, and the key file of the embedded default.

A master key is 32 random bytes, written in base64. Its id (`kid`) is the first 16 hex digits
of its SHA-256, so a wrapped data key can name the key that opens it without revealing it.

The keyring is the current key, which wraps every new or rotated data key, followed by older
keys still accepted for unwrapping. It comes from, in order:

- `TENANTRY_MASTER_KEY` (current) and `TENANTRY_PREVIOUS_MASTER_KEYS` (comma-separated): every
  worker on every machine must be given the same ones;
- else `DATA_DIR/master.keys`, created with mode 0600 on first use: one key a line, current
  first. Rotation puts a new key first and keeps the old ones, so a server that is running
  while data keys are being rewrapped can open them under either key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tenantry.config import Settings, get_settings
from tenantry.vault import crypto
from tenantry.vault.errors import MasterKeyInvalid, MasterKeyUnavailable, SecretUnreadable

KEY_FILE = "master.keys"


@dataclass(frozen=True, slots=True)
class MasterKey:
    key: bytes = field(repr=False)
    kid: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kid", hashlib.sha256(self.key).hexdigest()[:16])

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(crypto.new_key())

    @classmethod
    def decode(cls, text: str, *, source: str) -> MasterKey:
        """Parses one base64 key; the error names where it came from, never what it holds."""
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != crypto.KEY_BYTES:
            raise MasterKeyInvalid(
                f"{source} is not a master key: it must be {crypto.KEY_BYTES} random bytes in "
                "base64 (for example the output of `openssl rand -base64 32`)"
            )
        return cls(key)

    def encode(self) -> str:
        return base64.b64encode(self.key).decode()


def _wrapping_context(project_id: str, kid: str) -> bytes:
    # Binds a wrapped key to its project and master key: copied to another row, it will not open.
    return f"tenantry/data-key/v1\0{project_id}\0{kid}".encode()


@dataclass(frozen=True)
class Keyring:
    keys: tuple[MasterKey, ...]
    from_environment: bool

    @property
    def current(self) -> MasterKey:
        return self.keys[0]

    def get(self, kid: str) -> MasterKey | None:
        return next((key for key in self.keys if key.kid == kid), None)

    def wrap(self, project_id: str, data_key: bytes) -> tuple[bytes, str]:
        """The data key wrapped under the current master key, and that key's id."""
        kid = self.current.kid
        return crypto.encrypt(self.current.key, data_key, _wrapping_context(project_id, kid)), kid

    def unwrap(self, project_id: str, wrapped: bytes, kid: str) -> bytes:
        master = self.get(kid)
        if master is None:
            raise MasterKeyUnavailable(
                f"the data key of project {project_id} is wrapped under master key {kid}, which this "
                "process does not have: every worker needs the same master keys (TENANTRY_MASTER_KEY "
                f"and TENANTRY_PREVIOUS_MASTER_KEYS, or the same {KEY_FILE} in the data directory)"
            )
        data_key = crypto.decrypt(master.key, wrapped, _wrapping_context(project_id, kid))
        if data_key is None:
            raise SecretUnreadable(
                f"the data key of project {project_id} does not open under master key {kid}: "
                "the stored row was altered or copied from another project"
            )
        return data_key


def load(settings: Settings) -> Keyring:
    if settings.master_key is not None:
        current = MasterKey.decode(settings.master_key.get_secret_value(), source="TENANTRY_MASTER_KEY")
        previous_text = settings.previous_master_keys.get_secret_value() if settings.previous_master_keys else ""
        previous = [
            MasterKey.decode(text, source=f"entry {position} of TENANTRY_PREVIOUS_MASTER_KEYS")
            for position, text in enumerate(previous_text.split(","), start=1)
            if text.strip()
        ]
        return Keyring(_unique([current, *previous]), from_environment=True)
    path = key_file(settings)
    if not path.exists():
        _create(path, MasterKey.generate())
    return Keyring(_read(path), from_environment=False)


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def _unique(keys: Iterable[MasterKey]) -> tuple[MasterKey, ...]:
    by_kid: dict[str, MasterKey] = {}
    for key in keys:
        by_kid.setdefault(key.kid, key)
    return tuple(by_kid.values())


def _read(path: Path) -> tuple[MasterKey, ...]:
    keys = [
        MasterKey.decode(line, source=f"line {number} of {path}")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if line.strip()
    ]
    if not keys:
        raise MasterKeyInvalid(f"{path} holds no master key")
    return _unique(keys)


def _contents(keys: Iterable[MasterKey]) -> bytes:
    return "".join(f"{key.encode()}\n" for key in keys).encode()


def _write_temporary(path: Path, keys: Iterable[MasterKey]) -> Path:
    """A complete, durable copy of the key file under a temporary name beside `path`.

    Durable before anything is wrapped under a key in it: a data key wrapped under a master
    key that a crash then lost could never be opened again.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(_contents(keys))
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path: Path, key: MasterKey) -> None:
    """Creates the key file unless it exists; several workers starting at once agree on one key.

    As with secret.key, the file is written whole under a temporary name and hard-linked into
    place, so the first link wins and everyone reads the winner's complete file.
    """
    temporary = _write_temporary(path, [key])
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    _sync_directory(path.parent)


def _replace(path: Path, keys: Iterable[MasterKey]) -> None:
    os.replace(_write_temporary(path, keys), path)
    _sync_directory(path.parent)


@contextlib.contextmanager
def file_lock(settings: Settings) -> Iterator[None]:
    """Serializes the commands that rewrite the key file (rotate, prune) on this machine.

    Servers only read the file, which is always replaced whole, so they never take this lock.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(settings.data_dir / f".{KEY_FILE}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def add_current(settings: Settings) -> Keyring:
    """Puts a new master key first in the key file, keeping every older key. Hold file_lock."""
    keys = load(settings).keys
    keyring = Keyring((MasterKey.generate(), *keys), from_environment=False)
    _replace(key_file(settings), keyring.keys)
    return keyring


def retain(settings: Settings, kids: set[str]) -> list[str]:
    """Drops from the key file every old key whose id is not in `kids`; the current key stays.

    Returns the ids dropped. Hold file_lock.
    """
    keyring = load(settings)
    kept = [keyring.current, *(key for key in keyring.keys[1:] if key.kid in kids)]
    dropped = [key.kid for key in keyring.keys[1:] if key.kid not in kids]
    if dropped:
        _replace(key_file(settings), kept)
    return dropped


_loaded: Keyring | None = None


def current(*, reload: bool = False) -> Keyring:
    """This process's keyring, read once; `reload` reads it again (a rotation may have changed it)."""
    global _loaded
    if _loaded is None or reload:
        _loaded = load(get_settings())
    return _loaded


def forget() -> None:
    global _loaded
    _loaded = None
