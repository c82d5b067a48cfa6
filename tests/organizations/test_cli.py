"""`tenantry org create` as an operator runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import httpx


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenantry", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestCreate:
    def test_json_prints_one_object_with_a_working_key(self, server, server_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
        result = run_cli("org", "create", "Acme Corp", "--json", env=server_env)
        assert result.returncode == 0, result.stderr
        created = json.loads(result.stdout)
        assert set(created) == {"id", "name", "api_key"}
        assert re.fullmatch(r"ok_[A-Za-z0-9]{12}", created["id"])
        assert re.fullmatch(r"oak_[A-Za-z0-9]{32}", created["api_key"])
        assert created["name"] == "Acme Corp"
        listed = httpx.get(
            f"{server.base_url}/api/v3.1/org/owner/project/list", headers={"x-org-api-key": created["api_key"]}
        )
        assert listed.status_code == 200 and listed.json()["total_items"] == 0

    def test_plain_output_prints_the_key_once(self, server_env: dict[str, str]) -> None:
        result = run_cli("org", "create", "Plain", env=server_env)
        assert result.returncode == 0, result.stderr
        [key] = result.stdout.split()
        assert key.startswith("oak_")
        assert "ok_" in result.stderr and key not in result.stderr

    def test_blank_name_is_refused(self, server_env: dict[str, str]) -> None:
        result = run_cli("org", "create", "   ", "--json", env=server_env)
        assert result.returncode == 2
        assert result.stdout == ""
