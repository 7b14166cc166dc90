"""The load rows (issue 10, goal 7): gunicorn with 2 workers on a loopback port per
size, driven for a fixed time per target by a small asyncio client of our own,
bounded (a fixed number of connections, a fixed time, 127.0.0.1 only).

Targets, signed in as DfE's lead (one session cookie, as a browser has): the
triage dashboard /review/ and the proposal list /proposals/, against the bench's
trivial JSON view (bench/urls.py) without a session, measured in the same run.
The row's ratio is pages' requests a second over the trivial view's (goal ≥ 0.2).
A signed-in trivial view is shown too (what the session and user cost), and the
session writes the whole load made (from PostgreSQL's own table statistics).

Every process started here is stopped here (its process group, on any exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.core import COUNT, RATE, Goal, Row
from bench.table import Line, size_label

WORKERS = 2
CONNECTIONS = 4  # enough to keep both sync workers busy, no more
WARM_UP_SECONDS = 1.0
REQUEST_TIMEOUT = 30.0
LEAD = "lead@dfe.example"
TRIVIAL = "/bench/trivial.json"

# (row name, path, signed in, goal)
TARGETS: tuple[tuple[str, str, bool, Goal], ...] = (
    ("load: trivial JSON view, signed in (session + user read)", TRIVIAL, True, Goal(None)),
    (
        "load: /review/ (triage dashboard), signed in, 2 gunicorn workers",
        "/review/",
        True,
        Goal(max_growth=1.5, min_ratio=0.2),
    ),
    (
        "load: /proposals/ (proposal list), signed in, 2 gunicorn workers",
        "/proposals/",
        True,
        Goal(max_growth=1.5, min_ratio=0.2),
    ),
)


@dataclass
class Tally:
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


# --- the load client --------------------------------------------------------------------------


def request_bytes(path: str, cookie: str | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(response: bytes) -> int:
    """The status code of a raw HTTP/1.x response (0 if there is none)."""
    head = response.split(b"\r\n", 1)[0].split()
    return int(head[1]) if len(head) >= 2 and head[1].isdigit() else 0


async def _fetch(port: int, payload: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return status_of(await reader.read())  # gunicorn closes: read to the end
    finally:
        writer.close()


async def _drive(port: int, payload: bytes, seconds: float, connections: int) -> Tally:
    loop = asyncio.get_running_loop()
    tally = Tally()
    deadline = loop.time() + seconds

    async def connection() -> None:
        while loop.time() < deadline:
            try:
                status = await asyncio.wait_for(_fetch(port, payload), REQUEST_TIMEOUT)
            except (TimeoutError, OSError) as error:
                status, reason = 0, f"{type(error).__name__}: {error}"
            else:
                reason = f"HTTP {status}"
            if status == 200:
                tally.ok += 1
            else:
                tally.errors += 1
                tally.first_error = tally.first_error or reason

    started = loop.time()
    await asyncio.gather(*(connection() for _ in range(connections)))
    tally.seconds = loop.time() - started
    return tally


def drive(
    port: int, path: str, cookie: str | None, seconds: float, connections: int = CONNECTIONS
) -> Tally:
    """Requests for `seconds` (after a short uncounted warm-up) on `connections`
    concurrent connections, each waiting for its answer before the next."""
    payload = request_bytes(path, cookie)
    asyncio.run(_drive(port, payload, min(WARM_UP_SECONDS, seconds), connections))
    return asyncio.run(_drive(port, payload, seconds, connections))


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    size: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path


def start(size: int, env: dict[str, str], base_dir: Path) -> Server:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix=f"bench-gunicorn-{size}-", suffix=".log")[1])
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.wsgi:application",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--no-control-socket",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own application
            command,
            cwd=base_dir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    server = Server(size, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited {process.returncode}: see {log}")
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            if asyncio.run(_fetch_once(port)) == 200:
                return server
        time.sleep(0.3)
    stop(server)
    raise RuntimeError(f"gunicorn did not answer within 60 s: see {log}")


async def _fetch_once(port: int) -> int:
    return await asyncio.wait_for(_fetch(port, request_bytes(TRIVIAL, None)), 5)


def stop(server: Server) -> None:
    """TERM the gunicorn master (it stops its workers), then KILL its group if it lingers."""
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=5)


@contextlib.contextmanager
def servers(
    targets: Sequence[Any], envs: dict[int, dict[str, str]], base_dir: Path
) -> Iterator[dict[int, Server]]:
    started: dict[int, Server] = {}
    try:
        for target in targets:
            started[target.size] = start(target.size, envs[target.size], base_dir)
        yield started
    finally:
        for server in started.values():
            stop(server)


# --- sessions and session writes --------------------------------------------------------------


def session_cookie(email: str, env: dict[str, str], base_dir: Path) -> str:
    """`name=value` of a real session for `email` in that database (`force_login`,
    then one page)."""
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.load", "session", email],
        cwd=base_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"no session for {email}: {result.stderr.strip()[-300:]}")
    return result.stdout.strip().splitlines()[-1]


def session_writes(url: str) -> int:
    """Rows written to django_session so far, by PostgreSQL's table statistics."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_force_next_flush()")
        row = connection.execute(
            "SELECT n_tup_upd + n_tup_ins FROM pg_stat_user_tables WHERE relname = 'django_session'"
        ).fetchone()
    return int(row[0]) if row else 0


# --- the rows ---------------------------------------------------------------------------------


def run(
    targets: Sequence[Any],
    envs: dict[int, dict[str, str]],
    *,
    seconds: float,
    only: str = "",
    base_dir: Path,
) -> list[Line]:
    """Every load row at every size, the sizes one after the other per target."""
    wanted = [t for t in TARGETS if only in t[0]]
    if not wanted:
        return []
    lines = [Line(name, goal) for name, _, _, goal in wanted]
    floor = Line("load: trivial JSON view, no session (the reference)", Goal(None))
    writes = Line(
        "load: session writes during all signed-in load (at most 1 a minute)",
        Goal(None, max_ratio=1),
    )
    try:
        cookies = {t.size: session_cookie(LEAD, envs[t.size], base_dir) for t in targets}
        before = {t.size: session_writes(t.url) for t in targets}
        with servers(targets, envs, base_dir) as running:
            started = time.monotonic()
            for target in targets:
                server = running[target.size]
                print(f"bench: {size_label(target.size)}: load on {TRIVIAL}…", file=sys.stderr)
                tally = drive(server.port, TRIVIAL, None, seconds)
                floor.by_size[target.size] = _row(floor.name, target.size, tally, None)
            for line, (_, path, signed, _) in zip(lines, wanted, strict=True):
                for target in targets:
                    print(f"bench: {size_label(target.size)}: {line.name}…", file=sys.stderr)
                    cookie = cookies[target.size] if signed else None
                    tally = drive(running[target.size].port, path, cookie, seconds)
                    reference = floor.by_size[target.size].ours
                    line.by_size[target.size] = _row(line.name, target.size, tally, reference)
            elapsed = time.monotonic() - started
        # Stopped: every connection is closed and its statistics are flushed.
        for target in targets:
            written = session_writes(target.url) - before[target.size]
            allowed = 1 + int(elapsed // 60)
            writes.by_size[target.size] = Row(
                writes.name,
                ours=written,
                floor=allowed,
                unit=COUNT,
                size=target.size,
                note=f"over {elapsed:.0f} s of load; floor = allowed (1 + 1 a minute)",
            )
    except Exception as error:  # the other rows' table still prints
        for line in [floor, *lines]:
            for target in targets:
                line.by_size.setdefault(
                    target.size, Row(line.name, size=target.size, error=f"{error}")
                )
    return [floor, *lines, writes]


def _row(name: str, size: int, tally: Tally, reference: float | None) -> Row:
    note = f"{tally.ok:,} ok in {tally.seconds:.0f} s, {CONNECTIONS} connections"
    row = Row(name, ours=tally.rate, floor=reference, unit=RATE, size=size, note=note)
    if tally.errors:
        row.error = f"{tally.errors} failed requests (first: {tally.first_error})"
    return row


def _print_session(email: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovation.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from bench.core import signed_in_session

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = signed_in_session(User.objects.get(email=email))
    # One page, as after signing in: it stamps the idle clock, so the load that
    # follows starts with a session that needs no write for a minute.
    client.get("/", secure=True)
    print(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["session"] and len(sys.argv) == 3:
        _print_session(sys.argv[2])
    else:
        sys.exit("usage: python -m bench.load session EMAIL")
