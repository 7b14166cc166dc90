"""The parts of a bad day, as real processes: a Redis server of our own that can be
stopped and restarted, Celery workers that can be SIGKILLed, beat, and a webhook
receiver that can be down. Nothing here imports Django: the harness runs before
and beside it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
QUEUES = "notifications,reports,webhooks,similarity"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    check: Callable[[], object], *, timeout: float, every: float = 0.2, what: str = ""
) -> bool:
    """Poll `check` until it is truthy (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return bool(check())


class OwnRedis:
    """A redis-server of our own on a free port: never the shared one on 6379."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def cache_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not on the PATH")
        self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                # No persistence: a restart loses every queued message, the worst case.
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not wait_for(self.answers, timeout=10, every=0.05):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Process:
    """One child (a Celery worker or beat) in its own process group, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Process:
        self.starts += 1
        with open(self.log_dir / f"{self.name}-{self.starts}.log", "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                [sys.executable, "-m", *self.args],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, pool and all: no chance to finish, acknowledge or clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.log_dir.glob(f"{self.name}-*"))
        )


def worker(env: dict[str, str], log_dir: Path, *, concurrency: int = 2) -> Process:
    return Process(
        "worker",
        [
            "celery",
            "-A",
            "innovation",
            "worker",
            "-Q",
            QUEUES,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"chaos-{os.getpid()}@%h",
        ],
        env,
        log_dir,
    )


def beat(env: dict[str, str], log_dir: Path) -> Process:
    return Process(
        "beat",
        [
            "celery",
            "-A",
            "innovation",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(log_dir / "celerybeat-schedule"),
        ],
        env,
        log_dir,
    )


_KEY = re.compile(r"^X-Notification-Id: (\S+)$", re.MULTILINE)


def sent_keys(email_dir: Path) -> Counter[str]:
    """How many times each notification was emailed (the file backend's folder)."""
    keys: Counter[str] = Counter()
    for path in email_dir.glob("*.log"):
        keys.update(_KEY.findall(path.read_text(errors="replace")))
    return keys


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that can be down (nothing listening) and up."""

    port: int = field(default_factory=free_port)
    received: Counter[str] = field(default_factory=Counter)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        received = self.received
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    received[self.headers.get("X-Webhook-Delivery", "")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@dataclass
class Result:
    """One row of the table."""

    scenario: str
    created: int
    delivered: int
    unique: int
    lost: int
    stuck: int
    drain_seconds: float | None
    # Duplicates the scenario may explain: one per worker killed mid-send.
    duplicates_allowed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.delivered - self.unique

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.stuck == 0
            and self.duplicates <= self.duplicates_allowed
            and self.drain_seconds is not None
        )


COLUMNS = (
    "scenario",
    "created",
    "delivered",
    "unique",
    "duplicates",
    "lost",
    "drain time",
    "stuck",
)


def table(results: list[Result]) -> str:
    rows = [COLUMNS] + [
        (
            r.scenario,
            str(r.created),
            str(r.delivered),
            str(r.unique),
            f"{r.duplicates} (≤{r.duplicates_allowed})",
            str(r.lost),
            "never" if r.drain_seconds is None else f"{r.drain_seconds:.1f} s",
            str(r.stuck),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(row: tuple[str, ...]) -> str:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(rows[0]), rule, *map(line, rows[1:])])


def process_env(
    *,
    database_url: str,
    redis: OwnRedis,
    workdir: Path,
    fast: bool = False,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of every process of the bad day (workers, beat, and this one).

    `fast` shortens the timings (claim expiry 3 s, sweep every second) for the
    test suite's small versions; `make chaos` keeps the production defaults.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "innovation.settings",
        "DEBUG": "false",
        "SECRET_KEY": "chaos-" + "k" * 50,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis.url,
        "CACHE_URL": redis.cache_url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(workdir / "emails"),
        "MEDIA_ROOT": str(workdir / "media"),
        "VAR_DIR": str(workdir / "var"),
        "SITE_URL": "http://127.0.0.1:8000",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "GOVUK_NOTIFY_API_KEY": "",
        "DEMO_PASSWORD": "chaos-demo-password",
        "PYTHONUNBUFFERED": "1",
        # Small chunks, so that a report build lasts long enough to be killed mid-way.
        "REPORT_CHUNK_SIZE": "20",
    }
    for name in ("CELERY_BROKER_KEY_PREFIX", "REDIS_CACHE_URL"):
        env.pop(name, None)
    if fast:
        env.update(
            CLAIM_HEARTBEAT_SECONDS="1",
            CLAIM_EXPIRY_SECONDS="3",
            NOTIFICATION_SWEEP_INTERVAL_SECONDS="1",
            WORKER_HEARTBEAT_SECONDS="1",
            REPORT_CHUNK_SIZE="2",
        )
    env.update(extra or {})
    (workdir / "emails").mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    return env
