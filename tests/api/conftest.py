"""API test helpers: clients authenticated with real tokens, and a world of
proposals in every visibility situation the SPEC names."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import TokenScope, User
from proposals.enums import Status, Visibility
from proposals.models import Proposal
from proposals.services import api_token_create
from tests.factories import ProposalFactory


@pytest.fixture(autouse=True)
def _api_defaults(settings) -> None:
    # Most tests read what they just wrote; the settling lag has its own tests.
    settings.API_SETTLING_LAG_SECONDS = 0
    # No collectstatic in tests: static URLs without the manifest's hashes.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Rate-limit counters per process: parallel workers share VAR_DIR's file cache
    # and number their tokens alike.
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    cache.clear()


@pytest.fixture
def client_for() -> Callable[..., APIClient]:
    """`client_for(user, write=True)`: an APIClient sending that user's new token."""

    def make(user: User, *, write: bool = True) -> APIClient:
        _, key = api_token_create(
            user=user, name="test", scope=TokenScope.WRITE if write else TokenScope.READ
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.token_key = key  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def alice_draft(alice) -> Proposal:
    return ProposalFactory.create(submitter=alice, status=Status.DRAFT, reference="DFE-2026-9001")


@pytest.fixture
def dfe_government(alice) -> Proposal:
    """Submitted by Alice, open to all of government."""
    return ProposalFactory.create(submitter=alice, reference="DFE-2026-9002")


@pytest.fixture
def dfe_department_only(alice) -> Proposal:
    """Submitted by Alice, visible to DfE (and collaborators) only."""
    return ProposalFactory.create(
        submitter=alice, reference="DFE-2026-9003", visibility=Visibility.DEPARTMENT
    )


@pytest.fixture
def bob_department_only(bob) -> Proposal:
    return ProposalFactory.create(
        submitter=bob, reference="HO-2026-9001", visibility=Visibility.DEPARTMENT
    )
