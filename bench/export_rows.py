"""Export throughput and memory: our proposals export against PostgreSQL's own COPY.

    measure(user_email="analyst@gds.example", fmt="csv") -> dict

Exports every proposal the user may see (the seed's analyst by default) through
`proposals.reports.generate` — the exact code the worker runs — into a
temporary file, then has PostgreSQL `COPY (SELECT …) TO STDOUT` the same rows
(the export's own query, without its per-chunk theme and department lists) as
the ceiling to compare with. Peak memory is traced with tracemalloc when
`trace_memory` (slower), and the process's peak RSS is always reported.

Run alone:  DATABASE_URL=postgres://… python bench/export_rows.py --format ods
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any


def _setup_django() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovation.settings")
    import django

    django.setup()


def measure(
    *,
    user_email: str = "analyst@gds.example",
    fmt: str = "csv",
    trace_memory: bool = False,
    analyze: bool = True,
) -> dict[str, Any]:
    """Rows/s of the export and of COPY for the same rows, and peak memory.

    `analyze` refreshes PostgreSQL's statistics first: straight after a bulk seed
    they are stale, and the planner then sorts the whole table for every chunk
    instead of walking the reference index (seen: 2x slower at 200,000 rows).
    """
    from django.db import connection

    from accounts.models import User
    from proposals import reports

    if analyze and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE proposals_proposal")
    user = User.objects.get(email=user_email)
    with tempfile.TemporaryFile() as out:
        if trace_memory:
            tracemalloc.start()
        started = time.perf_counter()
        rows = reports.generate(user=user, kind="proposals", fmt=fmt, filters={}, out=out)
        export_seconds = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
        if trace_memory:
            tracemalloc.stop()
        size = out.tell()

    result: dict[str, Any] = {
        "format": fmt,
        "rows": rows,
        "export_seconds": round(export_seconds, 3),
        "export_rows_per_second": round(rows / export_seconds) if export_seconds else None,
        "file_bytes": size,
        "peak_traced_bytes": traced_peak,
        # ru_maxrss is in kilobytes on Linux: the whole process's high-water mark.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "copy_rows": None,
        "copy_seconds": None,
        "copy_rows_per_second": None,
    }
    if connection.vendor == "postgresql":
        started = time.perf_counter()
        copied = copy_rows(user)
        copy_seconds = time.perf_counter() - started
        result |= {
            "copy_rows": copied,
            "copy_seconds": round(copy_seconds, 3),
            "copy_rows_per_second": round(copied / copy_seconds) if copy_seconds else None,
        }
    return result


def copy_rows(user: Any) -> int:
    """PostgreSQL's COPY of the export's own query (its single-valued columns) as CSV;
    returns the number of rows."""
    from django.db import connection

    from proposals import reports

    query = reports.proposal_values(reports.export_queryset(user, {}), user)
    sql, params = query.query.sql_with_params()
    copied = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3's own cursor, for COPY
        with raw.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for block in copy:
                copied += bytes(block).count(b"\n")
    return copied


# The name the bench runner imports.
export_rows = measure


def export_comparison(context: Any, fmt: str = "csv") -> Any:
    """A `bench.core.Comparison` of the export against COPY of the same rows, for
    `make bench`. Register it in bench/measurements.py with, for example:

        @measurement("proposals export, CSV, as an analyst, against COPY")
        def proposals_export(context): return export_comparison(context)
    """
    from bench.core import Comparison
    from proposals import reports

    analyst = context.user("analyst@gds.example")

    def ours() -> int:
        with tempfile.TemporaryFile() as out:
            return reports.generate(user=analyst, kind="proposals", fmt=fmt, filters={}, out=out)

    def floor() -> int:
        return copy_rows(analyst)

    def same(mine: int, theirs: int) -> str | None:
        return None if mine == theirs else f"{mine} rows exported, {theirs} copied"

    return Comparison(ours=ours, floor=floor, same=same, note=f"{fmt}, rows streamed to a file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="csv", choices=["csv", "ods", "json"])
    parser.add_argument("--user", default="analyst@gds.example")
    parser.add_argument("--trace-memory", action="store_true")
    args = parser.parse_args()
    _setup_django()
    print(
        json.dumps(measure(user_email=args.user, fmt=args.format, trace_memory=args.trace_memory))
    )


if __name__ == "__main__":
    main()
