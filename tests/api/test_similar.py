"""GET /api/v1/proposals/<reference>/similar/ and POST /api/v1/proposals/similar/:
the same similarity as the pages, only what the caller may see."""

from __future__ import annotations

import pytest

from proposals import services, similarity
from tests.proposals.pages import submitted


@pytest.fixture(autouse=True)
def _fresh_index():
    similarity.INDEX.reset()
    yield
    similarity.INDEX.reset()


def index() -> int:
    return services.similarity_catch_up()


def test_api_similar_for_a_proposal_and_for_a_draft(client_for, alice, bob):
    other = submitted(bob, title="Pilot a chatbot for freedom of information requests")
    mine = submitted(alice, title="Chatbot answering freedom of information questions")
    index()
    reader = client_for(alice, write=False)

    got = reader.get(f"/api/v1/proposals/{mine.reference}/similar/")
    posted = reader.post(
        "/api/v1/proposals/similar/",
        {"title": "A chatbot for FOI requests", "summary": "", "problem": ""},
        format="json",
    )

    assert got.status_code == 200, got.content
    assert posted.status_code == 200, posted.content
    for response in (got, posted):
        first = response.json()["results"][0]
        assert first["reference"] == other.reference
        assert first["kind"] == "proposal"
        assert first["department"]["slug"] == "home-office"
        assert first["status"] == "submitted"
        assert isinstance(first["score"], float)
    assert mine.reference not in [r["reference"] for r in got.json()["results"]]


def test_api_similar_errors_are_plain_english(client_for, alice):
    reader = client_for(alice, write=False)

    missing = reader.post("/api/v1/proposals/similar/", {"summary": "x"}, format="json")
    unknown = reader.get("/api/v1/proposals/DFE-2026-9999/similar/")

    assert missing.status_code == 400
    assert "Enter a title" in str(missing.json())
    assert unknown.status_code == 404
