"""What one statement costs through Tenantry's engine, by pool size and by how many run at once.

Each statement is `tenantry.db.read_row` (a pooled connection, one SELECT, the connection
returned), the way a tool call reads its account. When more run at once than the pool keeps,
SQLAlchemy opens a connection for the extra ones and closes it when it is returned: this measures
what that churn costs against a pool that is large enough. This process runs on CPU 0; the
database does not.

    .venv/bin/python bench/db_pool.py        # defaults: --statements 2000 --pool-sizes 10,20 --concurrency 1,16,48
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import literal, select

from harness import RESULTS_DIR, add_backend_arguments, backends, environment, markdown_table, pin_this_process, scratch_database, temporary_directory, write_json
from tenantry.db import create_engine, create_sessionmaker, read_row

STATEMENT = select(literal(1))


async def measure(url: str, pool_size: int, concurrency: int, statements: int) -> dict[str, float]:
    engine = create_engine(url, pool_size=pool_size)
    sessionmaker = create_sessionmaker(engine)
    try:

        async def burst() -> None:
            await asyncio.gather(*(read_row(sessionmaker, STATEMENT, {}) for _ in range(concurrency)))

        for _ in range(max(1, 200 // concurrency)):
            await burst()
        bursts = max(1, statements // concurrency)
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(bursts):
            await burst()
        done = bursts * concurrency
        return {"wall_us": 1e6 * (time.perf_counter() - started) / done, "cpu_us": 1e6 * (time.process_time() - cpu) / done}
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--pool-sizes", default="10,20", help="comma-separated pool sizes (the engine allows as many again)")
    parser.add_argument("--concurrency", default="1,16,48", help="comma-separated statements at once")
    add_backend_arguments(parser)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "db_pool.json")
    args = parser.parse_args()
    pin_this_process({0})
    sizes = [int(size) for size in args.pool_sizes.split(",")]
    levels = [int(level) for level in args.concurrency.split(",")]
    results: dict[str, Any] = {}
    for backend, admin_url in backends(args.postgres_url, args.no_postgres).items():
        with temporary_directory(f"bench_db_pool_{backend}_") as workdir, scratch_database(admin_url, "bench_db_pool") as database_url:
            url = database_url or f"sqlite+aiosqlite:///{workdir / 'pool.db'}"
            results[backend] = {
                f"{size}/{level}": asyncio.run(measure(url, size, level, args.statements)) for size in sizes for level in levels
            }
        rows = [[str(size), str(level), f"{results[backend][f'{size}/{level}']['wall_us']:.0f}", f"{results[backend][f'{size}/{level}']['cpu_us']:.0f}"] for size in sizes for level in levels]
        print(f"\n{backend}: one statement through read_row\n")
        print(markdown_table(["pool size", "at once", "wall µs per statement", "CPU µs per statement"], rows))
    path = write_json(args.output, {"environment": environment(), "settings": vars(args) | {"output": str(args.output)}, "results": results})
    print(f"\nraw results: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
