"""`python -m bench --proposals N`: seed a fresh PostgreSQL database and print
one table of measurements (ours against the floor, with query counts).

The database is `innovation_bench` on the local server, dropped and created
each run (BENCH_DATABASE_URL names another). The seed runs as the real
command in a subprocess and is timed by the wall clock.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from bench.core import Row

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/innovation_bench"


def _recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name:
        sys.exit(f"bench: BENCH_DATABASE_URL has no database name: {url}")
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _analyze(url: str) -> int:
    """Fresh planner statistics (as autovacuum would soon make), and the number
    of rows now in the project's tables."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")
        row = connection.execute(
            "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname = 'public'"
        ).fetchone()
    return int(row[0]) if row else 0


def _manage(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - started, result


def _table(rows: list[Row]) -> str:
    def seconds(value: float | None) -> str:
        if value is None:
            return "—"
        return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.2f} ms"

    def queries(row: Row) -> str:
        if row.ours_queries is None:
            return "—"
        floor = "—" if row.floor_queries is None else str(row.floor_queries)
        return f"{row.ours_queries} / {floor}"

    header = ("measurement", "ours (median)", "floor", "ratio", "queries ours/floor", "note")
    body = [
        (
            row.name,
            seconds(row.ours),
            seconds(row.floor),
            "—" if row.ratio is None else f"{row.ratio:.1f}x",
            queries(row),
            row.note,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip()
        for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--proposals", type=int, default=10_000, help="seed size (default 10000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per side (median)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the existing bench database: no drop, no seed"
    )
    parser.add_argument("--only", default="", help="run only rows whose name contains this")
    options = parser.parse_args(argv)

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    var_dir = tempfile.mkdtemp(prefix="innovation-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        # Production-like: DEBUG off, so Django keeps no query log during the seed.
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DEMO_PASSWORD": os.environ.get("DEMO_PASSWORD") or "innovate-demo",
        "VAR_DIR": var_dir,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # Measure the dashboards' queries, not the cache in front of them.
        "PORTFOLIO_CACHE_SECONDS": "0",
    }
    rows: list[Row] = []
    print(f"bench: database {urlparse(url).path.lstrip('/')}, {options.proposals:,} proposals")
    if not options.reuse:
        _recreate_database(url)
        took, result = _manage(["migrate", "--noinput"], env)
        if result.returncode != 0:
            print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
            sys.exit("bench: migrate failed")
        print(f"bench: migrated in {took:.1f} s")
        took, result = _manage(["seed_demo", "--proposals", str(options.proposals)], env)
        seed = Row(f"seed_demo --proposals {options.proposals:,}")
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines() or ["(no output)"]
            reason = next((line for line in lines if "Unknown command" in line), lines[-1])
            seed.note = f"failed: {reason}"
        else:
            seed.ours = took
            rows_written = _analyze(url)
            seed.note = (
                f"{options.proposals / took:,.0f} proposals/s, {rows_written / took:,.0f} rows/s"
                f" ({rows_written:,} rows in all tables; wall clock, one run)"
            )
        rows.append(seed)
        print(f"bench: seeded in {took:.1f} s")

    # Pages render with production's hashed static files, as they would be served.
    took, result = _manage(["collectstatic", "--noinput", "--verbosity", "0"], env)
    if result.returncode != 0:
        print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
        sys.exit("bench: collectstatic failed (run `make install` first)")

    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovation.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from bench import measurements  # noqa: F401 - registers the rows
    from bench.core import REGISTRY, Context, run

    context = Context(proposals=options.proposals)
    for name, function in REGISTRY:
        if options.only in name:
            print(f"bench: {name}…", file=sys.stderr)
            rows.append(run(name, function, context, options.repeat))

    print()
    print(_table(rows))
    results = BASE_DIR / "bench-results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = results / f"{stamp}-{options.proposals}.json"
    output.write_text(json.dumps([asdict(row) for row in rows], indent=2, default=str))
    print(f"\nbench: results also in {output.relative_to(BASE_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
