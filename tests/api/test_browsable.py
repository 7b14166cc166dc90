"""The browsable API works for a signed-in browser session."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import ProposalFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/v1/proposals/", "/api/v1/proposals/DFE-2026-9002/", "/api/v1/themes/"],
)
def test_browsable_api_renders_for_a_session(alice, path) -> None:
    ProposalFactory.create(submitter=alice, reference="DFE-2026-9002")
    client = APIClient()
    client.force_login(alice)

    response = client.get(path, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"DFE-2026-9002" in response.content or path == "/api/v1/themes/"
