#!/usr/bin/env python3
"""Run the whole service on this machine: web server, Celery worker and beat.

`make run` calls this after installing, migrating and seeding. It needs no
server: by default the database is SQLite (WAL mode) and the broker is the
embedded filesystem one, both under VAR_DIR (var/). `DATABASE_URL`,
`CELERY_BROKER_URL` and every other production variable are honoured.

The web server is gunicorn, the server production runs (see the Dockerfile),
rather than `runserver`: `make run` then exercises the same request path,
static files through whitenoise included, with several processes sharing
SQLite as they would share PostgreSQL. Django's debug pages still show when
DEBUG is true.

Ctrl-C (or SIGTERM) stops every child gracefully and waits for them. If the
worker or beat dies on its own (a crash, the out-of-memory killer), it is
started again, after a pause that grows while it keeps dying (1 s, 2 s, 4 s…
up to 30 s), and the web server keeps serving meanwhile; /healthz reports a
queue without a live worker. If the web server dies, the others are stopped
and this exits non-zero, so a service that cannot serve never looks healthy.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 90  # seconds to wait for /healthz before printing the banner anyway
STOP_TIMEOUT = 30  # seconds each child gets to finish before it is killed
# The children that are started again when they die; the web server is not.
RESTARTED = frozenset({"worker", "beat"})
RESTART_PAUSE_MAX = 30.0  # seconds, the longest pause before a restart
STEADY_AFTER = 60.0  # seconds of running after which a child's pause starts again at 1 s

# SPEC §7: the accounts seed_demo creates.
DEMO_ACCOUNTS = [
    ("submitter@dfe.example", "Department for Education", "submitter"),
    ("reviewer@dfe.example", "Department for Education", "reviewer"),
    ("lead@dfe.example", "Department for Education", "portfolio lead"),
    ("submitter@homeoffice.example", "Home Office", "submitter"),
    ("reviewer@homeoffice.example", "Home Office", "reviewer"),
    ("analyst@gds.example", "Government Digital Service", "analyst"),
    ("assessor@dfe.example", "Department for Education", "reviewer"),
]
DEFAULT_DEMO_PASSWORD = "innovate-demo"  # noqa: S105 - the documented demo password (SPEC §7)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    args: list[str]
    started: float = 0.0
    # Consecutive quick deaths, for the pause before the next start.
    failures: int = 0
    restart_at: float | None = None


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if this script is killed outright
    (SIGKILL cannot be forwarded), so no orphan keeps the port or the queue."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _start(name: str, args: list[str], env: dict[str, str]) -> Child:
    process = subprocess.Popen(  # noqa: S603 - our own fixed command lines
        [sys.executable, "-m", *args],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        # Its own session: a Ctrl-C in the terminal reaches only this script,
        # which then stops each child once, in an orderly way.
        start_new_session=True,
        preexec_fn=_die_with_parent,  # safe: this script starts no threads
    )
    return Child(name, process, args, started=time.monotonic())


def _restart_pause(child: Child) -> float:
    """1 s, 2 s, 4 s… up to RESTART_PAUSE_MAX while the child keeps dying quickly."""
    if time.monotonic() - child.started > STEADY_AFTER:
        child.failures = 0
    child.failures += 1
    return min(RESTART_PAUSE_MAX, 2.0 ** (child.failures - 1))


def _stop(children: list[Child]) -> None:
    for child in children:
        if child.process.poll() is None:
            # SIGTERM: gunicorn's graceful stop, Celery's warm shutdown.
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"run_local: {child.name} did not stop in time; killing it", file=sys.stderr)
            child.process.kill()
            child.process.wait()


def _healthz(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own URL
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _banner(url: str, emails: str, healthy: bool) -> str:
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    width = max(len(email) for email, _, _ in DEMO_ACCOUNTS)
    dept_width = max(len(dept) for _, dept, _ in DEMO_ACCOUNTS)
    lines = ["", "=" * 72, f"Propose an innovation is running at {url}"]
    if not healthy:
        lines.append(f"(warning: {url}/healthz has not answered 200 yet)")
    lines += [
        "",
        f"Demo accounts (made by seed_demo), all with the password: {password}",
        "",
        f"  {'email'.ljust(width)}  {'department'.ljust(dept_width)}  role",
    ]
    lines += [
        f"  {email.ljust(width)}  {dept.ljust(dept_width)}  {role}"
        for email, dept, role in DEMO_ACCOUNTS
    ]
    lines += [
        "",
        f"Emails: {emails}",
        "Press Ctrl-C to stop the web server, worker and beat.",
        "=" * 72,
    ]
    return "\n".join(lines)


def _emails_destination() -> str:
    """Where email goes, as the settings decide it (importing them also fails
    fast, naming the variable, on a bad configuration)."""
    sys.path.insert(0, str(BASE_DIR))
    from django.conf import settings  # noqa: PLC0415 - after BASE_DIR is on sys.path

    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.filebased.EmailBackend":
        folder = Path(str(settings.EMAIL_FILE_PATH))
        folder.mkdir(parents=True, exist_ok=True)
        return f"written as files to {folder.resolve()}"
    return f"sent by {backend}"


def main() -> int:
    port = os.environ.get("PORT") or "8000"
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovation.settings")
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    os.environ["PYTHONUNBUFFERED"] = "1"  # interleave the children's logs as they happen
    from django.core.exceptions import ImproperlyConfigured  # noqa: PLC0415 - after the environment is set

    try:
        emails = _emails_destination()
    except ImproperlyConfigured as error:
        print(f"run_local: the configuration is not valid: {error}", file=sys.stderr)
        return 2
    env = dict(os.environ)

    stopping: list[int] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    queues = "notifications,reports,webhooks,similarity"
    children = [
        _start(
            "web",
            [
                "gunicorn",
                "innovation.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                os.environ.get("WEB_CONCURRENCY", "2"),
                "--threads",
                "4",
                "--graceful-timeout",
                "10",
                "--access-logfile",
                "-",
                # gunicorn's control socket is one path per user: a second server
                # (tests, another checkout) would take it over. Nothing here uses it.
                "--no-control-socket",
            ],
            env,
        ),
        _start(
            "worker",
            [
                "celery",
                "-A",
                "innovation",
                "worker",
                "-Q",
                queues,
                "--concurrency",
                "2",
                "-l",
                "info",
            ],
            env,
        ),
        # The schedule file's location comes from settings (VAR_DIR).
        _start("beat", ["celery", "-A", "innovation", "beat", "-l", "info"], env),
    ]

    url = f"http://127.0.0.1:{port}"
    announced = False
    ready_deadline = time.monotonic() + READY_TIMEOUT
    exit_code = 0
    while not stopping:
        dead = [
            child
            for child in children
            if child.process.poll() is not None and child.restart_at is None
        ]
        fatal = [child for child in dead if child.name not in RESTARTED]
        if fatal:
            for child in fatal:
                print(
                    f"run_local: {child.name} exited with {child.process.returncode}; "
                    "stopping the others",
                    file=sys.stderr,
                )
            exit_code = 1
            break
        for child in dead:
            pause = _restart_pause(child)
            child.restart_at = time.monotonic() + pause
            print(
                f"run_local: {child.name} exited with {child.process.returncode}; "
                f"starting it again in {pause:.0f} s (the web server keeps serving)",
                file=sys.stderr,
            )
        for index, child in enumerate(children):
            if child.restart_at is not None and time.monotonic() >= child.restart_at:
                fresh = _start(child.name, child.args, env)
                fresh.failures = child.failures
                children[index] = fresh
                print(f"run_local: {child.name} started again", file=sys.stderr)
        if not announced:
            healthy = _healthz(f"{url}/healthz") == 200
            if healthy or time.monotonic() > ready_deadline:
                print(_banner(url, emails, healthy), flush=True)
                announced = True
        time.sleep(0.5)

    if stopping:
        print("run_local: stopping the web server, worker and beat…", file=sys.stderr)
    _stop(children)
    print("run_local: stopped", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
