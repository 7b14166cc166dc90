"""Similar proposals and lessons: computed locally, kept current by the worker's
service, found by meaning and words, and only ever what the viewer may see."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from proposals import embeddings, services, similarity
from proposals.enums import OutcomeResult, Status, Visibility
from proposals.models import SimilarityVector
from tests.factories import ProposalFactory
from tests.proposals.pages import draft, html, submitted
from tests.proposals.review_world import approved, planned, with_outcome

BLOCK_NETWORK = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network blocked by the test")

_connect = socket.socket.connect

def connect(self, address):
    if self.family == socket.AF_UNIX or str(address[0]) in ("127.0.0.1", "::1", "localhost"):
        return _connect(self, address)
    refuse()

socket.socket.connect = connect
socket.create_connection = refuse
socket.getaddrinfo = refuse
"""


@pytest.fixture(autouse=True)
def _no_network(monkeypatch) -> Iterator[None]:
    """Outside loopback (the database, Redis), every connection fails: nothing of
    similarity may reach the internet."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        host = str(address[0]) if isinstance(address, tuple) else ""
        if host in ("127.0.0.1", "::1", "localhost"):
            return real_connect(self, address)
        raise OSError(f"network blocked by the test: {address}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    similarity.INDEX.reset()
    yield
    similarity.INDEX.reset()


def index() -> int:
    """What the similarity worker does (tests do not run on-commit tasks)."""
    return services.similarity_catch_up()


def test_the_model_loads_from_its_package_with_the_network_blocked(tmp_path):
    script = BLOCK_NETWORK + (
        "from proposals import embeddings\n"
        "vectors = embeddings.embed(['Chatbot for freedom of information requests'])\n"
        "print(vectors.shape, round(float((vectors[0] ** 2).sum()), 3))\n"
    )
    # A home and cache of its own: nothing cached from an earlier download can help.
    env = {"HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"(1, {embeddings.DIMENSIONS}) 1.0"


def test_the_obvious_duplicate_is_found_first(alice, bob):
    # The case that an earlier, word-matching version missed on SQLite.
    original = submitted(
        bob,
        title="Pilot a chatbot for freedom of information requests",
        summary="A chatbot that answers common FOI questions from published data",
        problem="FOI requests take officers hours each",
        proposed_solution="A chatbot on GOV.UK",
    )
    noise = submitted(
        bob,
        title="Join up records for correspondence with ministers",
        summary="One record of every letter to ministers",
        problem="Ministerial correspondence is tracked in spreadsheets",
        proposed_solution="A shared case record",
    )
    index()
    mine = draft(
        alice,
        title="Chatbot for freedom of information requests",
        summary="Answer FOI requests automatically",
        problem="We spend too long on FOI requests",
        proposed_solution="A chatbot",
    )

    found = similarity.similar_to_proposal(alice, mine)

    assert [m.reference for m in found][:1] == [original.reference]
    assert noise.reference not in [m.reference for m in found]
    assert found[0].kind == "proposal"
    assert found[0].department.slug == "home-office"


def test_only_what_the_viewer_may_see_and_never_drafts(alice, bob, amir):
    words = {
        "summary": "Read scanned paper forms into the case system automatically",
        "problem": "Paper forms are retyped by hand",
        "proposed_solution": "Optical character recognition",
    }
    shared = submitted(bob, title="Scanned forms read by OCR", **words)
    secret = submitted(amir, title="Scanned forms OCR", visibility=Visibility.DEPARTMENT, **words)
    other_draft = ProposalFactory.create(
        submitter=bob, status=Status.DRAFT, title="Scanned forms OCR draft", **words
    )
    index()
    mine = draft(bob, title="Read scanned forms automatically", **words)

    found = [m.reference for m in similarity.similar_to_proposal(bob, mine)]

    assert shared.reference in found
    assert secret.reference not in found  # DfE only; Bob is in the Home Office
    assert other_draft.reference not in found
    assert mine.reference not in found
    assert SimilarityVector.objects.filter(proposal=other_draft).count() == 0


def test_a_lesson_is_found_with_its_result(alice, bob, lena, rita):
    lesson = approved(
        alice,
        rita,
        lena,
        title="Text message reminders before hospital appointments",
        summary="Send an SMS two days before an outpatient appointment",
        problem="Missed appointments waste clinic time",
    )
    with_outcome(planned(lesson, lena), lena, result=OutcomeResult.NOT_MET)
    index()

    found = similarity.similar_to_text(
        bob,
        title="SMS nudges so people keep their appointments",
        summary="Send a text message the day before an appointment",
        problem="Missed appointments waste staff time",
    )

    assert found and found[0].reference == lesson.reference
    assert found[0].kind == "lesson"
    assert found[0].result == OutcomeResult.NOT_MET


def test_indexing_is_done_once_and_again_only_when_the_text_changes(alice):
    proposal = submitted(alice, title="Digital visitor passes")
    assert index() == 1
    assert index() == 0
    before = SimilarityVector.objects.get(proposal=proposal, outcome=None)

    services.proposal_update(proposal=proposal, actor=alice, data={"title": "Phone entry passes"})
    assert index() == 1
    after = SimilarityVector.objects.get(proposal=proposal, outcome=None)
    assert after.digest != before.digest
    assert bytes(after.vector) != bytes(before.vector)


def test_a_change_queues_the_worker_on_commit(alice, django_capture_on_commit_callbacks, settings):
    sent: list[tuple[str, dict[str, object]]] = []
    from proposals import dispatch  # noqa: PLC0415 - patched below, for this test only

    proposal = draft(alice, title="Digital visitor passes")

    def record(name: str, argument: str, values: list[Any]) -> None:
        sent.extend((name, {argument: value}) for value in values)

    original = dispatch.send_each
    dispatch.send_each = record  # type: ignore[assignment]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.proposal_transition(proposal=proposal, actor=alice, action="submit")
    finally:
        dispatch.send_each = original
    assert (dispatch.INDEX_SIMILARITY, {"proposal_id": str(proposal.pk)}) in sent
    assert settings.CELERY_TASK_ROUTES[dispatch.INDEX_SIMILARITY] == {"queue": "similarity"}


def test_the_search_runs_a_fixed_number_of_queries(alice, bob, django_assert_max_num_queries):
    for n in range(12):
        submitted(bob, title=f"Scanned forms read by OCR in office {n}")
    index()
    similarity.similar_to_text(alice, title="warm up")  # the model, loaded once a process

    # Sync the vectors, the words, the visible proposals, the visible lessons (none here).
    with django_assert_max_num_queries(4):
        found = similarity.similar_to_text(alice, title="Read scanned forms automatically")
    assert len(found) == 5


def test_check_answers_and_the_page_after_the_summary_show_suggestions(client, alice, bob):
    other = submitted(
        bob,
        title="Pilot a chatbot for freedom of information requests",
        summary="A chatbot that answers FOI questions",
    )
    index()
    mine = draft(alice, title="Chatbot for FOI requests", summary="Answer FOI questions")
    client.force_login(alice)

    for url in (
        f"/proposals/{mine.reference}/edit/problem/",
        f"/proposals/{mine.reference}/check/",
    ):
        body = html(client.get(url))
        assert "Similar proposals and lessons from across government" in body
        assert other.reference in body
        assert "Home Office" in body


def test_the_proposal_page_shows_related(client, alice, bob):
    one = submitted(bob, title="Pilot a chatbot for freedom of information requests")
    two = submitted(alice, title="Chatbot answering freedom of information questions")
    index()
    client.force_login(alice)

    body = html(client.get(f"/proposals/{two.reference}/"))

    assert '<h2 class="govuk-heading-s" id="related">Related</h2>' in body
    assert one.reference in body


def test_triage_shows_likely_duplicates_with_a_route_to_merge(client, alice, amir, lena):
    older = submitted(amir, title="Pilot a chatbot for freedom of information requests")
    newer = submitted(alice, title="Chatbot answering freedom of information questions")
    index()
    client.force_login(lena)

    body = html(client.get(f"/proposals/{newer.reference}/triage/"))
    merge = f"/proposals/{newer.reference}/merge/?into={older.reference}"

    assert "Likely duplicates" in body
    assert merge in body
    form = html(client.get(merge))
    assert f'value="{older.reference}"' in form
