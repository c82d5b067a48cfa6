"""Where master keys come from: the environment, or a private key file made on first use."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from tenantry.config import Settings
from tenantry.vault import keyring
from tenantry.vault.errors import MasterKeyInvalid, MasterKeyUnavailable, SecretUnreadable
from tenantry.vault.keyring import MasterKey


def encoded() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class TestKeyFile:
    def test_created_on_first_use_with_mode_0600(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path / "data")
        ring = keyring.load(settings)
        path = keyring.key_file(settings)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text() == ring.current.encode() + "\n"
        assert keyring.load(settings).current == ring.current
        assert not ring.from_environment
        assert [entry.name for entry in path.parent.iterdir()] == [path.name]  # no temporary file left

    def test_workers_starting_at_once_agree_on_one_key(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path)
        with ThreadPoolExecutor(16) as pool:
            kids = set(pool.map(lambda _: keyring.load(settings).current.kid, range(64)))
        assert len(kids) == 1

    def test_add_current_puts_a_new_key_first_and_keeps_the_old(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path)
        first = keyring.load(settings).current
        with keyring.file_lock(settings):
            ring = keyring.add_current(settings)
        assert ring.current != first and ring.keys[1:] == (first,)
        assert keyring.load(settings).keys == ring.keys
        assert stat.S_IMODE(keyring.key_file(settings).stat().st_mode) == 0o600

    def test_retain_drops_only_unlisted_old_keys(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path)
        with keyring.file_lock(settings):
            for _ in range(3):
                keyring.add_current(settings)
            current, newer, older, oldest = keyring.load(settings).keys
            assert keyring.retain(settings, {older.kid}) == [newer.kid, oldest.kid]
        assert keyring.load(settings).keys == (current, older)

    def test_a_damaged_file_is_refused_by_line_without_its_content(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path)
        good = encoded()
        keyring.key_file(settings).write_text(f"{good}\nnot-a-key-{good[:10]}\n")
        with pytest.raises(MasterKeyInvalid) as raised:
            keyring.load(settings)
        assert "line 2" in str(raised.value) and good[:10] not in str(raised.value)

    def test_an_empty_file_is_refused(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path)
        keyring.key_file(settings).write_text("\n")
        with pytest.raises(MasterKeyInvalid):
            keyring.load(settings)


class TestEnvironment:
    def test_current_then_previous_keys_and_no_file(self, tmp_path: Path) -> None:
        current, older, oldest = encoded(), encoded(), encoded()
        settings = Settings(
            data_dir=tmp_path,
            master_key=SecretStr(current),
            previous_master_keys=SecretStr(f"{older}, {oldest},"),
        )
        ring = keyring.load(settings)
        assert ring.from_environment
        assert [key.encode() for key in ring.keys] == [current, older, oldest]
        assert not keyring.key_file(settings).exists()

    @pytest.mark.parametrize("value", ["short", base64.b64encode(b"x" * 31).decode(), "!" * 44])
    def test_a_malformed_key_is_refused_without_showing_it(self, tmp_path: Path, value: str) -> None:
        with pytest.raises(MasterKeyInvalid) as raised:
            keyring.load(Settings(data_dir=tmp_path, master_key=SecretStr(value)))
        assert "TENANTRY_MASTER_KEY" in str(raised.value) and value not in str(raised.value)

    def test_a_malformed_previous_key_is_named_by_position(self, tmp_path: Path) -> None:
        previous = SecretStr(f"{encoded()},nope")
        settings = Settings(data_dir=tmp_path, master_key=SecretStr(encoded()), previous_master_keys=previous)
        with pytest.raises(MasterKeyInvalid, match="entry 2 of TENANTRY_PREVIOUS_MASTER_KEYS"):
            keyring.load(settings)

    def test_settings_never_show_the_keys(self) -> None:
        current = encoded()
        settings = Settings(master_key=SecretStr(current), previous_master_keys=SecretStr(current))
        assert current not in repr(settings) and current not in str(settings.model_dump())


class TestWrapping:
    def test_kid_is_the_start_of_the_keys_sha256(self) -> None:
        key = MasterKey.generate()
        assert key.kid == hashlib.sha256(key.key).hexdigest()[:16]
        assert base64.b64encode(key.key).decode() not in repr(key)

    def test_a_wrapped_key_opens_only_for_its_project_under_its_key(self) -> None:
        old, new = MasterKey.generate(), MasterKey.generate()
        ring = keyring.Keyring((new, old), from_environment=True)
        data_key = os.urandom(32)
        wrapped, kid = ring.wrap("pr_aaaaaaaaaaaa", data_key)
        assert kid == new.kid
        assert ring.unwrap("pr_aaaaaaaaaaaa", wrapped, kid) == data_key
        with pytest.raises(SecretUnreadable):
            ring.unwrap("pr_bbbbbbbbbbbb", wrapped, kid)
        with pytest.raises(SecretUnreadable):
            ring.unwrap("pr_aaaaaaaaaaaa", wrapped, old.kid)
        with pytest.raises(MasterKeyUnavailable, match=new.kid):
            keyring.Keyring((old,), from_environment=True).unwrap("pr_aaaaaaaaaaaa", wrapped, kid)
