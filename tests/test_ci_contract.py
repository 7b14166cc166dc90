"""The promises around the code: the README documents every environment
variable the settings read, and the Makefile and .ci/run keep their shape."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def test_readme_documents_every_environment_variable_the_settings_read():
    settings = (BASE_DIR / "innovation" / "settings.py").read_text()
    read = set(re.findall(r"env_(?:str|bool|int|float|list)\(\s*\"([A-Z0-9_]+)\"", settings))
    readme = (BASE_DIR / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))

    assert "SECRET_KEY" in read
    assert sorted(read - documented) == []


def test_ci_run_is_an_executable_strict_bash_script():
    script = BASE_DIR / ".ci" / "run"

    assert os.access(script, os.X_OK)
    assert script.read_text().splitlines()[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in script.read_text()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_lists_every_target():
    result = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    targets = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")}

    assert {"install", "run", "test", "lint", "typecheck", "check", "bench", "clean"} <= targets


def test_compose_sets_only_variables_the_settings_read_and_the_worker_takes_every_queue(
    settings,
):
    yaml = pytest.importorskip("yaml")
    settings_source = (BASE_DIR / "innovation" / "settings.py").read_text()
    read = set(re.findall(r"env_(?:str|bool|int|float|list)\(\s*\"([A-Z0-9_]+)\"", settings_source))
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    app_services = ("migrate", "web", "worker", "beat")

    for name in app_services:
        assert sorted(set(compose["services"][name]["environment"]) - read) == [], name
    worker = compose["services"]["worker"]["command"]
    queues = worker[worker.index("-Q") + 1]
    assert queues == settings.CELERY_WORKER_QUEUES == "notifications,reports,webhooks,similarity"
