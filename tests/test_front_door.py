"""The front door: every management command the README and docs show works as
written, outside `make run`, without weakening the production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "api.md"]


def _shown_commands() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        # Production (its own section) sets SECRET_KEY, so its commands are not for newcomers.
        text = doc.read_text().split("## Running it in production")[0]
        for line in text.splitlines():
            for command in re.findall(r"`([^`]*manage(?:\.py)?[^`]*)`", line):
                found.append((doc.name, command))
    return found


def test_docs_show_management_commands_in_a_form_that_runs_outside_make_run():
    commands = _shown_commands()
    assert any("seed_demo" in command for _doc, command in commands)
    assert any("create_api_token" in command for _doc, command in commands)
    # A bare `python manage.py …` fails with "SECRET_KEY is not set" without DEBUG.
    bare = [
        (doc, command)
        for doc, command in commands
        if re.match(r"(\.venv/bin/)?python manage\.py \w", command)
    ]
    assert bare == []


def test_readme_says_emails_are_dot_log_files_in_var():
    readme = (ROOT / "README.md").read_text()
    assert "`var/emails/`" in readme
    assert "`.log`" in readme


@pytest.mark.slow
def test_make_manage_runs_a_command_without_debug_or_secret_key_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env["VAR_DIR"] = str(tmp_path)
    env.pop("DATABASE_URL", None)

    result = subprocess.run(
        ["make", "--no-print-directory", "manage", "ARGS=check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_still_refuse_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env["DJANGO_SETTINGS_MODULE"] = "innovation.settings"
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_migrating_the_embedded_default_prints_no_warning(tmp_path):
    """A newcomer's first `make run` starts quietly: no system-check warning on SQLite."""
    env = {
        **os.environ,
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "W040" not in result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
