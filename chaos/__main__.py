"""`python -m chaos` (`make chaos`): run the bad day and print one table.

It starts a redis-server of its own on a free port (never the shared one on
6379) and drops and creates the PostgreSQL database `innovation_chaos` on
127.0.0.1 (CHAOS_DATABASE_URL names another), migrates it, seeds it
(`seed_demo --proposals N`), starts a Celery worker and beat, and runs:

1. 1,000 notifications with the worker SIGKILLed 5 times and Redis restarted once;
2. 500 submissions, half rolled back, with Redis down for 30 s (the API is
   asked throughout and must answer 200);
3. a report build killed mid-way;
4. 100 webhook deliveries to a receiver that is down for 20 s, then up.

Exit status: 0 when nothing is lost or stuck and the only duplicates are the
ones a worker killed mid-send can cause (at most one per kill); 1 otherwise;
2 when the run did not finish within its bound (10 minutes).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlparse, urlunparse

from chaos.harness import BASE_DIR, OwnRedis, Result, beat, process_env, table, worker

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/innovation_chaos"
BOUND_SECONDS = 600


def _recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name:
        sys.exit(f"chaos: CHAOS_DATABASE_URL has no database name: {url}")
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own fixed command lines
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chaos", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--proposals", type=int, default=3000, help="seed_demo size (3000)")
    args = parser.parse_args()
    url = os.environ.get("CHAOS_DATABASE_URL", DEFAULT_URL)
    started = time.monotonic()

    def out_of_time(_signum: int, _frame: FrameType | None) -> None:
        print(f"chaos: not finished within {BOUND_SECONDS} s", file=sys.stderr)
        raise SystemExit(2)

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(BOUND_SECONDS)

    workdir = Path(tempfile.mkdtemp(prefix="innovation-chaos-"))
    redis = OwnRedis(workdir)
    redis.start()
    env = process_env(database_url=url, redis=redis, workdir=workdir)
    logs = workdir / "logs"
    processes = [worker(env, logs), beat(env, logs)]
    results: list[Result] = []
    try:
        print(
            f"chaos: Redis on port {redis.port}, database {urlparse(url).path[1:]}, logs in {logs}",
            flush=True,
        )
        _recreate_database(url)
        _manage(env, "migrate", "--noinput")
        _manage(env, "seed_demo", "--proposals", str(args.proposals))
        print(f"chaos: migrated and seeded in {time.monotonic() - started:.0f} s", flush=True)
        os.environ.update(env)
        import django

        django.setup()
        from accounts.models import User
        from chaos import scenarios

        for process in processes:
            process.start()
        day = scenarios.Day(
            redis=redis, worker=processes[0], beat=processes[1], email_dir=workdir / "emails"
        )
        submitter = User.objects.get(email="submitter@dfe.example")
        lead = User.objects.get(email="lead@dfe.example")
        analyst = User.objects.get(email="analyst@gds.example")
        runs = [
            lambda: scenarios.notifications_under_kills(day, department_id=submitter.department_id),
            lambda: scenarios.submissions_with_redis_down(day, author=submitter),
            lambda: scenarios.report_killed_midway(day, requester=analyst),
            lambda: scenarios.webhooks_receiver_down(day, lead=lead),
        ]
        for run in runs:
            result = run()
            results.append(result)
            print(f"chaos: {result.scenario}: {'ok' if result.ok else 'FAILED'}", flush=True)
    finally:
        signal.alarm(0)
        for process in processes:
            process.stop()
        redis.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - nothing to close
            pass
        _recreate_database(url, drop_only=True)

    print()
    print(table(results))
    for result in results:
        for note in result.notes:
            print(f"  {result.scenario}: {note}")
    print(f"\nchaos: {time.monotonic() - started:.0f} s in all")
    worst = [r.scenario for r in results if not r.ok]
    if worst or len(results) < 4:
        print(f"chaos: FAILED: {', '.join(worst) or 'not every scenario ran'}", file=sys.stderr)
        return 1
    print("chaos: nothing lost, nothing stuck, duplicates only from kills mid-send")
    return 0


if __name__ == "__main__":
    sys.exit(main())
