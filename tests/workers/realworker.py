"""A real Celery worker process for integration tests, and the broker it talks to.

The worker is started by the test as `celery -A innovation worker`, against the
same PostgreSQL test database (pytest-django's `test_<name>`) and a Redis the
test chooses, with Django's file email backend so the test can read what was
sent. Every test gets its own Redis key prefix, so parallel runs sharing one
Redis never take each other's messages.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from innovation.celery import app

BASE_DIR = Path(settings.BASE_DIR)
QUEUES = "notifications,reports,webhooks,similarity"


def current_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's test copy)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@contextmanager
def app_broker(url: str, prefix: str) -> Iterator[None]:
    """Point this (the test's) process's Celery app at `url` with a key prefix."""
    saved = (app.conf.broker_url, dict(app.conf.broker_transport_options or {}))

    def reset() -> None:
        # Celery's connection and producer pools are private attributes, untyped
        # in celery-types; closing them is the only way to repoint a live app.
        celery: Any = app
        if celery._pool is not None:
            celery._pool.force_close_all()
        celery._pool = None
        celery.amqp._producer_pool = None
        # kombu keeps producer pools in a process-wide registry keyed by broker; a
        # pool closed above would otherwise be handed back to the next test.
        kombu_pools.reset()

    app.conf.update(
        broker_url=url,
        broker_transport_options={"visibility_timeout": 7200, "global_keyprefix": prefix},
    )
    reset()
    try:
        yield
    finally:
        reset()
        app.conf.update(broker_url=saved[0], broker_transport_options=saved[1])


class Worker:
    def __init__(
        self, *, broker_url: str, prefix: str, email_dir: Path, log_dir: Path, concurrency: int = 1
    ) -> None:
        self.email_dir = email_dir
        self.log_dir = log_dir
        self.concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.env: dict[str, str] = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "innovation.settings",
            "SECRET_KEY": str(settings.SECRET_KEY),
            "DEBUG": "false",
            "DATABASE_URL": current_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_BROKER_KEY_PREFIX": prefix,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(email_dir),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SITE_URL": settings.SITE_URL,
            "VAR_DIR": str(log_dir / "var"),
            "GOVUK_NOTIFY_API_KEY": "",
        }

    def start(self) -> Worker:
        self.starts += 1
        log = open(self.log_dir / f"worker-{self.starts}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "innovation",
                "worker",
                "-Q",
                QUEUES,
                "--concurrency",
                str(self.concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so a kill takes the pool's children with it.
            start_new_session=True,
        )
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no chance to finish, ack or clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


_KEY = re.compile(r"^X-Notification-Id: (\S+)$", re.MULTILINE)


def sent_keys(email_dir: Path) -> Counter[str]:
    """How many times each idempotency key was emailed (file backend folder)."""
    keys: Counter[str] = Counter()
    for path in email_dir.glob("*.log"):
        keys.update(_KEY.findall(path.read_text(errors="replace")))
    return keys


def wait_for(
    check: Callable[[], object], *, timeout: float, every: float = 0.1, what: str = ""
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what or check}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own, on its own port, that the test may stop."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
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
        wait_for(self._answers, timeout=10, what="redis-server to start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
