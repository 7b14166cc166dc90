"""`scripts/run_local.py` (what `make run` starts): web server, worker and beat
come up on the embedded defaults, /healthz answers, and Ctrl-C stops them all."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BASE_DIR = Path(__file__).resolve().parent.parent
# The test run's own settings (tests/envdefaults.py) and any real services are
# left out: this is a newcomer's `make run`, on SQLite and the filesystem broker.
NOT_INHERITED = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "EMAIL_BACKEND",
    "EMAIL_FILE_PATH",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "VAR_DIR",
    "PORT",
    "DJANGO_SETTINGS_MODULE",  # the test run's own settings module sets test defaults
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may contain spaces.
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def get_healthz(url: str) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - http://127.0.0.1
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}
    except OSError:
        return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree in /proc")
def test_run_local_serves_healthz_and_ctrl_c_stops_every_child(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(VAR_DIR=str(tmp_path / "var"), PORT=str(port), DEBUG="true")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    log = (tmp_path / "run_local.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, "scripts/run_local.py"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        answer = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and runner.poll() is None:
            answer = get_healthz(f"http://127.0.0.1:{port}/healthz")
            if answer and answer[0] == 200:
                break
            time.sleep(0.5)
        time.sleep(2)  # let the banner follow the first healthy answer
        children = descendants(runner.pid)
        healthcheck = subprocess.run(
            [sys.executable, "scripts/healthcheck.py"],
            cwd=BASE_DIR,
            env={**env, "ALLOWED_HOSTS": "127.0.0.1"},
            check=False,
            timeout=30,
        )

        runner.send_signal(signal.SIGINT)
        exit_code = runner.wait(timeout=90)
    finally:
        if runner.poll() is None:
            runner.kill()
        log.close()
    output = (tmp_path / "run_local.log").read_text(errors="replace")

    assert answer == (200, {"database": "ok", "broker": "ok", "worker": "ok"}), output
    assert healthcheck.returncode == 0
    assert f"Propose an innovation is running at http://127.0.0.1:{port}" in output
    assert "analyst@gds.example" in output
    assert "innovate-demo" in output
    assert f"Emails: written as files to {tmp_path / 'var' / 'emails'}" in output
    # gunicorn (master and workers), the Celery worker (and its pool) and beat.
    assert len(children) >= 5, output
    assert exit_code == 0, output
    assert [pid for pid in children if alive(pid)] == [], output


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree in /proc")
def test_run_local_stops_everything_and_fails_when_a_child_dies(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    with socket.socket() as taken:
        # The web server cannot bind a port that is already in use, so it exits.
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env.update(VAR_DIR=str(tmp_path / "var"), PORT=str(port), DEBUG="true")
        runner = subprocess.Popen(
            [sys.executable, "scripts/run_local.py"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        time.sleep(3)
        children = descendants(runner.pid)
        try:
            output, _ = runner.communicate(timeout=120)
        finally:
            if runner.poll() is None:
                runner.kill()
    text = output.decode(errors="replace")

    assert runner.returncode == 1, text
    assert "run_local: web exited with" in text
    assert [pid for pid in children if alive(pid)] == [], text


def _pid_of(runner_pid: int, needle: str) -> int | None:
    """The direct child of the runner whose command line contains `needle`."""
    for pid in descendants(runner_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if needle in command and int(stat.rsplit(")", 1)[1].split()[1]) == runner_pid:
            return pid
    return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree in /proc")
def test_run_local_starts_a_dead_worker_again_and_web_keeps_serving(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(VAR_DIR=str(tmp_path / "var"), PORT=str(port), DEBUG="true")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    log = (tmp_path / "run_local.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, "scripts/run_local.py"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (get_healthz(url) or (0,))[0] != 200:
            time.sleep(0.5)
        first = _pid_of(runner.pid, " worker ")
        assert first is not None
        os.kill(first, signal.SIGKILL)  # as the kombu fault or the OOM killer would
        answers = []
        second = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answers.append((get_healthz(url) or (None,))[0])
            second = _pid_of(runner.pid, " worker ")
            if second not in (None, first):
                break
            time.sleep(0.3)
        still_running = runner.poll() is None
        runner.send_signal(signal.SIGINT)
        runner.wait(timeout=90)
    finally:
        if runner.poll() is None:
            runner.kill()
        log.close()
    output = (tmp_path / "run_local.log").read_text(errors="replace")

    assert still_running, output
    assert second not in (None, first), output
    assert "run_local: worker exited with -9; starting it again in 1 s" in output
    assert "run_local: worker started again" in output
    # The web server answered all along (200: the worker's last heartbeat is recent).
    assert answers and set(answers) == {200}, answers
