"""Export throughput, first byte and memory: our proposals export against PostgreSQL's COPY.

    measure(user_email="analyst@gds.example", fmt="csv", limit=None) -> dict

Exports the proposals the user may see (the seed's analyst by default; the
first `limit` of them in reference order with `--limit`) with the worker's own
code — `proposals.reports.proposal_rows` written by `reports.write_report`,
after the count the build's progress needs, which is what `reports.generate`
does — into a temporary file. Then PostgreSQL runs `COPY (SELECT …) TO STDOUT`
of the export's own query (`reports.proposal_values`: the same rows and
columns, the decision, themes and departments joined in) into a file too: the
least work that gives the same rows, the floor to compare with.

Nothing is written to the database: without a report id the build records no
progress, and the rows are read in a read-only transaction (`reports.reading`),
so this is safe on a database that is only to be read.

The first byte is the time from the start to the first write to the file that
follows the first data row (for CSV, when the first 8 KB of rows leave the
text buffer); the row counts of ours and COPY's are checked to be equal.
Memory (`--memory 20000,200000`) runs each size in a fresh process, as peak
RSS is a high-water mark: peak RSS and, with `--trace-memory`, tracemalloc's
peak of Python allocations.

Run alone:
    DATABASE_URL=postgres://… python bench/export_rows.py [--format ods] [--limit 200000]
    DATABASE_URL=postgres://… python bench/export_rows.py --memory 20000,200000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovation.settings")
    import django

    django.setup()


class _Timed(io.RawIOBase):
    """A file that notes when the first bytes after the first data row arrive."""

    def __init__(self, inner: IO[bytes], started: float) -> None:
        self.inner = inner
        self.started = started
        self.row_seen = False
        self.first_byte: float | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.first_byte is None and self.row_seen:
            self.first_byte = time.perf_counter() - self.started
        self.inner.write(data)
        return len(data)


def _queryset(user: Any, limit: int | None) -> Any:
    """The export's proposals, or the first `limit` in reference order (a range
    on the reference, so the query keeps its shape)."""
    from proposals import reports

    queryset = reports.export_queryset(user, {})
    if limit:
        last = (
            queryset.order_by("reference").values_list("reference", flat=True)[limit - 1 : limit]
        ).first()
        if last is not None:
            queryset = queryset.filter(reference__lte=last)
    return queryset


def export(user: Any, fmt: str, out: IO[bytes], *, limit: int | None = None) -> dict[str, Any]:
    """The worker's export of these proposals to `out`: rows and first-byte time."""
    from django.conf import settings
    from django.utils import timezone

    from proposals import reports

    queryset = _queryset(user, limit)
    started = time.perf_counter()
    timed = _Timed(out, started)
    rows = 0

    def watched(source: Iterator[Any]) -> Iterator[Any]:
        nonlocal rows
        for row in source:
            rows += 1
            timed.row_seen = True
            yield row

    # What reports.proposals_tables does for a build (the count is for its progress).
    progress = reports.Progress(None, queryset.order_by().count())
    table = reports.Table(
        "Proposals",
        [label for label, _ in reports.PROPOSAL_COLUMNS],
        watched(
            reports.proposal_rows(
                queryset, user, progress=progress, chunk_size=settings.REPORT_CHUNK_SIZE
            )
        ),
    )
    meta = {"kind": "proposals", "generated_at": timezone.now().isoformat(), "filters": {}}
    reports.write_report(fmt, [table], timed, meta=meta)  # type: ignore[arg-type]
    return {"rows": rows, "seconds": time.perf_counter() - started, "first_byte": timed.first_byte}


def copy_rows(user: Any, out: IO[bytes] | None = None, *, limit: int | None = None) -> int:
    """PostgreSQL's COPY of the export's own query to `out` (a temporary file when
    None); returns the number of rows. Text format: one line a row, whatever
    the cells hold, so the lines are the rows."""
    from django.db import connection, transaction

    from proposals import reports

    query = reports.proposal_values(_queryset(user, limit), user)
    sql, params = query.query.sql_with_params()
    copied = 0
    with (
        tempfile.TemporaryFile() if out is None else nullcontext(out) as target,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # The settings the export reads with (`reports.reading`): COPY is faster
        # without JIT too. And the plan its cursor gets, in reference order off
        # the index: planned for COPY, the query sorts every row first, which
        # at 1,000,000 proposals took 272 s against 34 s. So this is the floor
        # at its best.
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL enable_sort = off")
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:  # psycopg 3's own
            for block in copy:
                data = bytes(block)
                copied += data.count(b"\n")
                target.write(data)
    return copied


def measure(
    *,
    user_email: str = "analyst@gds.example",
    fmt: str = "csv",
    limit: int | None = None,
    trace_memory: bool = False,
    analyze: bool = False,
    copy: bool = True,
    repeat: int = 1,
) -> dict[str, Any]:
    """Rows/s of the export and of COPY for the same rows, the first byte, peak memory:
    medians of `repeat` runs of each, taken in turns.

    `analyze` refreshes PostgreSQL's statistics first (`--analyze`; off by
    default, as it writes the planner's statistics): straight after a bulk seed
    they can be stale, and the planner then picks plans for an empty table.
    """
    from django.db import connection

    from accounts.models import User

    if analyze and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE proposals_proposal, proposals_decision")
    user = User.objects.get(email=user_email)
    exports: list[dict[str, Any]] = []
    copies: list[float] = []
    copied = None
    for run in range(max(repeat, 1)):
        with tempfile.TemporaryFile() as out:
            tracing = trace_memory and run == 0
            if tracing:
                tracemalloc.start()
            exports.append(export(user, fmt, out, limit=limit))
            traced_peak = tracemalloc.get_traced_memory()[1] if tracing else None
            if tracing:
                tracemalloc.stop()
            size = out.tell()
        # Side by side, one after the other, so that both see the same machine.
        if copy and connection.vendor == "postgresql":
            started = time.perf_counter()
            copied = copy_rows(user, limit=limit)
            copies.append(time.perf_counter() - started)

    rows = exports[0]["rows"]
    seconds = statistics.median(done["seconds"] for done in exports)
    first_bytes = [done["first_byte"] for done in exports if done["first_byte"] is not None]
    result: dict[str, Any] = {
        "format": fmt,
        "limit": limit,
        "runs": len(exports),
        "rows": rows,
        "export_seconds": round(seconds, 3),
        "export_rows_per_second": round(rows / seconds) if seconds else None,
        "first_byte_seconds": round(statistics.median(first_bytes), 3) if first_bytes else None,
        "file_bytes": size,
        "peak_traced_bytes": traced_peak if trace_memory else None,
        # ru_maxrss is in kilobytes on Linux: the whole process's high-water mark.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "copy_rows": copied,
        "copy_seconds": None,
        "copy_rows_per_second": None,
        "ratio": None,
    }
    if copies:
        copy_seconds = statistics.median(copies)
        result |= {
            "copy_seconds": round(copy_seconds, 3),
            "copy_rows_per_second": round(rows / copy_seconds) if copy_seconds else None,
            # Medians of runs taken in turns; the best of each too, as a check on noise.
            "ratio": round(seconds / copy_seconds, 2) if copy_seconds else None,
            "best_ratio": round(min(done["seconds"] for done in exports) / min(copies), 2),
            "same_rows": copied == rows,
        }
    return result


def memory(sizes: list[int], *, user_email: str, fmt: str, trace: bool) -> dict[str, Any]:
    """Each size exported in a fresh process (peak RSS never goes down), and the
    largest size's peaks over the smallest's."""
    runs = []
    for size in sizes:
        command = [sys.executable, str(Path(__file__).resolve()), "--limit", str(size)]
        command += ["--format", fmt, "--user", user_email, "--no-copy"]
        if trace:
            command.append("--trace-memory")
        done = subprocess.run(  # noqa: S603 - our own fixed command line
            command, check=True, capture_output=True, text=True, cwd=ROOT
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    small, large = runs[0], runs[-1]
    growth: dict[str, Any] = {
        "rss": round(large["peak_rss_bytes"] / small["peak_rss_bytes"], 3),
    }
    if trace:
        growth["traced"] = round(large["peak_traced_bytes"] / small["peak_traced_bytes"], 3)
    return {"runs": runs, "growth_largest_over_smallest": growth}


# The name the bench runner imports.
export_rows = measure


def export_comparison(context: Any, fmt: str = "csv") -> Any:
    """A `bench.core.Comparison` of the export against COPY of the same rows, for
    `make bench` (bench/measurements.py registers it)."""
    from bench.core import Comparison

    analyst = context.user("analyst@gds.example")

    def ours() -> int:
        with tempfile.TemporaryFile() as out:
            return int(export(analyst, fmt, out)["rows"])

    def floor() -> int:
        return copy_rows(analyst)

    def same(mine: int, theirs: int) -> str | None:
        return None if mine == theirs else f"{mine} rows exported, {theirs} copied"

    return Comparison(
        ours=ours,
        floor=floor,
        same=same,
        note=f"{fmt}, one streamed query to a file; floor: COPY of that query to a file",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--format", default="csv", choices=["csv", "ods", "json"])
    parser.add_argument("--user", default="analyst@gds.example")
    parser.add_argument("--limit", type=int, help="export the first N proposals only")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, taken in turns")
    parser.add_argument("--trace-memory", action="store_true")
    parser.add_argument("--no-copy", action="store_true", help="skip the COPY floor")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE the tables first")
    parser.add_argument(
        "--memory", help="sizes to export each in a fresh process, e.g. 20000,200000"
    )
    args = parser.parse_args()
    if args.memory:
        sizes = [int(size) for size in args.memory.split(",")]
        result = memory(sizes, user_email=args.user, fmt=args.format, trace=args.trace_memory)
        print(json.dumps(result))
        return
    _setup_django()
    result = measure(
        user_email=args.user,
        fmt=args.format,
        limit=args.limit,
        trace_memory=args.trace_memory,
        analyze=args.analyze,
        copy=not args.no_copy,
        repeat=args.repeat,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
