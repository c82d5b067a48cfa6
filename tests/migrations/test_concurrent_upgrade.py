"""Several processes migrating one fresh embedded database at once (a server starting while the
operator runs `tenantry org create`, or `serve --workers N` on first start) take turns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_concurrent_upgrades_of_a_fresh_sqlite_database_all_succeed(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TENANTRY_")}, "TENANTRY_DATA_DIR": str(tmp_path)}
    processes = [
        subprocess.Popen([sys.executable, "-m", "tenantry", "db", "upgrade"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], "\n".join(outputs)
    check = subprocess.run([sys.executable, "-m", "tenantry", "db", "check"], env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
