"""Shared fixtures: named people in named departments, and the rule for
tests that need a real service (PostgreSQL, Redis, Chromium): use it when
present, skip saying why when not, and fail instead under CI=true (SPEC §8)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest
from django.core.cache import caches

from accounts import lockout
from accounts.models import Department, Role, User
from proposals import dispatch, similarity
from tests.factories import UserFactory
from tests.reference_data import load_reference_data

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing, except in CI where that is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true, so this cannot be skipped)")
    pytest.skip(reason)


def redis_reachable(url: str = REDIS_URL) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 1):
            return True
    except OSError:
        return False


@pytest.fixture
def require_postgres(settings) -> None:
    if not settings.IS_POSTGRES:
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://…")


@pytest.fixture
def require_redis() -> str:
    if not redis_reachable():
        skip_or_fail(f"needs Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture(autouse=True)
def _fresh_sign_in_counts() -> None:
    """Every test starts with no failed sign-ins counted (accounts.lockout)."""
    caches[lockout.CACHE_ALIAS].clear()
    lockout._fallback.clear()


@pytest.fixture
def reference_data(db) -> None:
    """Departments, themes and criteria (see tests/reference_data.py for why)."""
    load_reference_data()


@pytest.fixture
def dfe(reference_data) -> Department:
    return Department.objects.get(slug="dfe")


@pytest.fixture
def home_office(reference_data) -> Department:
    return Department.objects.get(slug="home-office")


@pytest.fixture
def alice(dfe) -> User:
    """A submitter at the Department for Education."""
    return UserFactory.create(email="alice@dfe.example", full_name="Alice Adams", department=dfe)


@pytest.fixture
def amir(dfe) -> User:
    """Alice's colleague at DfE, also a submitter."""
    return UserFactory.create(email="amir@dfe.example", full_name="Amir Khan", department=dfe)


@pytest.fixture
def rita(dfe) -> User:
    """A reviewer on DfE's panel."""
    return UserFactory.create(
        email="rita@dfe.example", full_name="Rita Reviewer", department=dfe, role=Role.REVIEWER
    )


@pytest.fixture
def ravi(dfe) -> User:
    """A second DfE reviewer (for races and independent scoring)."""
    return UserFactory.create(
        email="ravi@dfe.example", full_name="Ravi Patel", department=dfe, role=Role.REVIEWER
    )


@pytest.fixture
def lena(dfe) -> User:
    """DfE's portfolio lead."""
    return UserFactory.create(
        email="lena@dfe.example", full_name="Lena Lead", department=dfe, role=Role.LEAD
    )


@pytest.fixture
def bob(home_office) -> User:
    """A Home Office submitter: another department."""
    return UserFactory.create(
        email="bob@homeoffice.example", full_name="Bob Brown", department=home_office
    )


@pytest.fixture
def hugo(home_office) -> User:
    """A Home Office reviewer: a reviewer, but not of DfE's proposals."""
    return UserFactory.create(
        email="hugo@homeoffice.example",
        full_name="Hugo Hughes",
        department=home_office,
        role=Role.REVIEWER,
    )


@pytest.fixture
def ana(reference_data) -> User:
    """A cross-government analyst at GDS."""
    return UserFactory.create(
        email="ana@gds.example",
        full_name="Ana Analyst",
        department=Department.objects.get(slug="gds"),
        role=Role.ANALYST,
    )


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings) -> None:
    """Tests run with DEBUG off, where settings choose whitenoise's manifest
    storage; that needs `collectstatic` first and raises for any {% static %}
    without it. Tests use the plain storage, which serves the same files from
    static/ (the manifest itself is exercised by `collectstatic` in CI)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _similarity_index_forgotten():
    """Each process keeps the vectors it has read (proposals.similarity.INDEX); a test
    must not see the vectors of an earlier test's rolled-back rows."""
    similarity.INDEX.reset()
    yield
    similarity.INDEX.reset()


@pytest.fixture(autouse=True)
def _broker_failures_forgotten():
    """dispatch remembers, per process, that the broker refused a publish (so that a
    dead broker is not waited on by every request); a test must not inherit that."""
    dispatch.forget_broker_failures()
    yield
    dispatch.forget_broker_failures()
