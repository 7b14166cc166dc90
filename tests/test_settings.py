"""Configuration comes only from the environment, through helpers that fail
loudly; production refuses to start unsafe. Settings are module-level, so
whole-process behaviour is checked in a fresh `python` subprocess."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from innovation.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Variables the test run sets (tests/envdefaults.py) that must not leak into a
# "production" process under test.
RUN_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "EMAIL_BACKEND",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    # Set by the browser tests for Playwright; the deploy check rightly refuses it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def run_python(code_or_args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in RUN_VARIABLES}
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=BASE_DIR,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "innovation.settings",
            "VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def setting(tmp_path: Path, expression: str, **env: str) -> str:
    result = run_python(
        ["-c", f"from django.conf import settings; print({expression})"], tmp_path, **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_env_bool_refuses_a_value_that_is_not_true_or_false(monkeypatch, value):
    monkeypatch.setenv("INNOVATION_TEST_FLAG", value)

    with pytest.raises(ImproperlyConfigured, match="INNOVATION_TEST_FLAG must be true or false"):
        env_bool("INNOVATION_TEST_FLAG", False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("On", True), ("1", True), ("false", False), ("no", False), ("0", False)],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("INNOVATION_TEST_FLAG", value)

    assert env_bool("INNOVATION_TEST_FLAG", not expected) is expected


def test_env_helpers_return_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("INNOVATION_TEST_VALUE", raising=False)

    assert env_bool("INNOVATION_TEST_VALUE", True) is True
    assert env_int("INNOVATION_TEST_VALUE", 7) == 7
    assert env_float("INNOVATION_TEST_VALUE", 0.5) == 0.5
    assert env_str("INNOVATION_TEST_VALUE", "default") == "default"
    assert env_list("INNOVATION_TEST_VALUE", ["a"]) == ["a"]


def test_env_int_refuses_a_value_that_is_not_a_whole_number(monkeypatch):
    monkeypatch.setenv("INNOVATION_TEST_NUMBER", "ten")

    with pytest.raises(ImproperlyConfigured, match="INNOVATION_TEST_NUMBER must be a whole number"):
        env_int("INNOVATION_TEST_NUMBER", 10)


def test_env_int_refuses_a_value_below_its_minimum(monkeypatch):
    monkeypatch.setenv("INNOVATION_TEST_NUMBER", "3")

    with pytest.raises(ImproperlyConfigured, match="INNOVATION_TEST_NUMBER must be at least 10"):
        env_int("INNOVATION_TEST_NUMBER", 60, minimum=10)


def test_env_float_refuses_a_value_that_is_not_a_number(monkeypatch):
    monkeypatch.setenv("INNOVATION_TEST_RATIO", "half")

    with pytest.raises(ImproperlyConfigured, match="INNOVATION_TEST_RATIO must be a number"):
        env_float("INNOVATION_TEST_RATIO", 0.5)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("INNOVATION_TEST_HOSTS", " a.example, b.example ,,")

    assert env_list("INNOVATION_TEST_HOSTS") == ["a.example", "b.example"]


def test_settings_refuse_a_bad_value_naming_the_variable(tmp_path):
    result = run_python(
        ["manage.py", "check"], tmp_path, DEBUG="true", SESSION_IDLE_TIMEOUT="half an hour"
    )

    assert result.returncode != 0
    assert "SESSION_IDLE_TIMEOUT must be a whole number, not 'half an hour'" in result.stderr


def test_production_settings_refuse_to_start_without_secret_key(tmp_path):
    result = run_python(["manage.py", "check"], tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_the_deploy_check_with_no_warnings(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="innovation.example",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_database_url_switches_the_engine_to_postgresql(tmp_path):
    engine = setting(
        tmp_path,
        "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME']",
        DEBUG="true",
        DATABASE_URL="postgres://innovation:secret@db.example:5432/innovation",
    )

    assert engine == "django.db.backends.postgresql innovation"


def test_database_url_that_is_not_a_url_is_refused(tmp_path):
    result = run_python(["manage.py", "check"], tmp_path, DEBUG="true", DATABASE_URL="nonsense")

    assert result.returncode != 0
    assert "DATABASE_URL is not a database URL" in result.stderr


def test_default_database_is_sqlite_in_wal_mode(tmp_path):
    mode = setting(
        tmp_path,
        "__import__('django.db').db.connection.cursor()"
        ".execute('PRAGMA journal_mode').fetchone()[0]",
        DEBUG="true",
    )

    assert mode == "wal"
    assert (tmp_path / "db.sqlite3").exists()


def test_default_broker_is_the_embedded_filesystem_one_in_var_dir(tmp_path):
    broker = setting(
        tmp_path,
        "settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in']",
        DEBUG="true",
    )

    assert broker == f"filesystem:// {tmp_path / 'broker' / 'queue'}"


def test_celery_broker_url_switches_to_redis(tmp_path):
    broker = setting(
        tmp_path, "settings.CELERY_BROKER_URL", DEBUG="true", CELERY_BROKER_URL="redis://r:6379/0"
    )

    assert broker == "redis://r:6379/0"
