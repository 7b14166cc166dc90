"""Creating and editing proposals through the API, optimistic concurrency, and
the lifecycle driven end to end through the workflow actions."""

from __future__ import annotations

import re

import pytest

from proposals.enums import CostBand, Status, Visibility
from proposals.models import AuditEvent, Criterion, Proposal, Theme
from tests.factories import ProposalFactory

ANSWERS = {
    "title": "Read benefit forms automatically",
    "summary": "Stop retyping forms",
    "problem": "Caseworkers retype 4,000 forms a week",
    "who_has_the_problem": "Caseworkers in benefit centres",
    "proposed_solution": "Read the forms with OCR and check them",
    "expected_benefits": "Hours saved and fewer errors",
    "cost_band": "10k_50k",
    "estimated_benefit_gbp": 250000,
    "themes": ["automation"],
    "collaborating_departments": ["home-office"],
    "visibility": "department",
}


@pytest.fixture
def automation(db):
    return Theme.objects.get_or_create(slug="automation", defaults={"name": "Automation"})[0]


@pytest.mark.django_db
def test_create_draft_answers_201_with_the_proposal(client_for, alice, automation) -> None:
    response = client_for(alice).post("/api/v1/proposals/", ANSWERS, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"DFE-20\d\d-0001", body["reference"])
    assert body["status"] == "draft"
    assert body["department"] == {
        "slug": "dfe",
        "name": "Department for Education",
        "acronym": "DfE",
    }
    assert body["themes"] == ["automation"]
    assert body["collaborating_departments"] == ["home-office"]
    assert body["visibility"] == "department"
    assert body["estimated_benefit_gbp"] == 250000
    assert body["url"] == f"http://127.0.0.1:8000/proposals/{body['reference']}/"
    assert body["available_actions"] == ["submit", "withdraw"]
    assert response["ETag"] == '"1"'
    assert Proposal.objects.get(reference=body["reference"]).submitter == alice


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field", ["status", "reference", "department", "submitter", "id", "scores", "decided_at"]
)
def test_read_only_fields_are_refused_with_400_and_nothing_written(client_for, alice, field):
    client = client_for(alice)

    created = client.post("/api/v1/proposals/", {"title": "T", field: "approved"}, format="json")
    draft = ProposalFactory.create(
        submitter=alice, status=Status.DRAFT, reference="DFE-2026-9001", title="Original"
    )
    patched = client.patch(
        "/api/v1/proposals/DFE-2026-9001/", {"title": "New", field: "approved"}, format="json"
    )

    assert created.status_code == 400
    assert patched.status_code == 400
    assert created.json()["errors"][field][0].startswith("This field is read-only")
    assert Proposal.objects.count() == 1
    draft.refresh_from_db()
    assert (draft.title, draft.status, draft.version) == ("Original", Status.DRAFT, 1)


@pytest.mark.django_db
def test_patch_with_current_etag_applies_and_returns_the_next_etag(client_for, alice) -> None:
    ProposalFactory.create(submitter=alice, status=Status.DRAFT, reference="DFE-2026-9001")
    client = client_for(alice)
    etag = client.get("/api/v1/proposals/DFE-2026-9001/")["ETag"]

    response = client.patch(
        "/api/v1/proposals/DFE-2026-9001/",
        {"title": "Sharper title"},
        format="json",
        HTTP_IF_MATCH=etag,
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Sharper title"
    assert response["ETag"] == '"2"'


@pytest.mark.django_db
@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', "garbage", '"99"'])
def test_patch_with_stale_etag_is_412_and_nothing_is_overwritten(
    client_for, alice, amir, if_match
) -> None:
    proposal = ProposalFactory.create(
        submitter=alice, status=Status.DRAFT, reference="DFE-2026-9001"
    )
    proposal.co_authors.add(amir)
    alice_client, amir_client = client_for(alice), client_for(amir)
    assert alice_client.get("/api/v1/proposals/DFE-2026-9001/")["ETag"] == '"1"'
    # Amir edits first: the stored version is now 2.
    assert (
        amir_client.patch(
            "/api/v1/proposals/DFE-2026-9001/", {"title": "Amir's title"}, format="json"
        ).status_code
        == 200
    )

    response = alice_client.patch(
        "/api/v1/proposals/DFE-2026-9001/",
        {"title": "Alice's title", "summary": "Alice's summary"},
        format="json",
        HTTP_IF_MATCH=if_match,
    )

    assert response.status_code == 412
    assert response.json() == {
        "detail": "This proposal was changed by someone else since you loaded it",
        "code": "precondition_failed",
    }
    proposal.refresh_from_db()
    assert (proposal.title, proposal.summary, proposal.version) == (
        "Amir's title",
        "A short summary",
        2,
    )
    assert AuditEvent.objects.filter(proposal=proposal, action="edit").count() == 1


@pytest.mark.django_db
def test_patch_without_if_match_is_applied(client_for, alice) -> None:
    ProposalFactory.create(submitter=alice, status=Status.DRAFT, reference="DFE-2026-9001")

    response = client_for(alice).patch(
        "/api/v1/proposals/DFE-2026-9001/", {"summary": "Shorter"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["summary"] == "Shorter"


@pytest.mark.django_db
def test_lifecycle_through_the_api_from_draft_to_decision(
    client_for, alice, rita, lena, dfe
) -> None:
    criteria = list(Criterion.objects.filter(department=dfe, active=True))
    alice_api, rita_api, lena_api = client_for(alice), client_for(rita), client_for(lena)
    reference = alice_api.post(
        "/api/v1/proposals/", {**ANSWERS, "themes": [], "visibility": "government"}, format="json"
    ).json()["reference"]
    base = f"/api/v1/proposals/{reference}/"

    submitted = alice_api.post(base + "submit/")
    accepted = rita_api.post(
        base + "triage/",
        {"action": "accept", "assessors": ["ravi@dfe.example", str(rita.pk)]},
        format="json",
    )
    accepted = rita_api.post(
        base + "triage/", {"action": "accept", "assessors": [rita.email]}, format="json"
    )
    declared = rita_api.post(base + "assess/", {"conflict": False}, format="json")
    assessed = rita_api.post(
        base + "assess/",
        {
            "scores": [
                {"criterion": c.pk, "score": 4, "comment": "Clear benefit"} for c in criteria
            ],
            "recommendation": "fund",
            "comment": "Worth a pilot",
        },
        format="json",
    )
    alice_view = alice_api.get(base).json()
    lena_view = lena_api.get(base).json()
    decided = lena_api.post(
        base + "decide/", {"decision": "approve", "rationale": "Strong case"}, format="json"
    )

    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_review"
    assert declared.status_code == 200
    assert assessed.status_code == 200, assessed.content
    assert alice_view["assessments"] is None
    assert lena_view["assessments"][0]["scores"] == [
        {"criterion": c.pk, "criterion_name": c.name, "score": 4, "comment": "Clear benefit"}
        for c in criteria
    ]
    assert lena_view["assessments"][0]["weighted_score"] == "4.000"
    assert decided.status_code == 200
    body = decided.json()
    assert body["status"] == "approved"
    assert body["decision"]["kind"] == "approve"
    assert body["decision"]["rationale"] == "Strong case"
    assert body["decision"]["decided_by"] == "Lena Lead"
    assert body["decided_at"] is not None


@pytest.mark.django_db
def test_triage_with_an_assessor_from_another_department_is_400(client_for, rita, alice, bob):
    ProposalFactory.create(submitter=alice, reference="DFE-2026-9002")

    response = client_for(rita).post(
        "/api/v1/proposals/DFE-2026-9002/triage/",
        {"action": "accept", "assessors": [bob.email]},
        format="json",
    )

    assert response.status_code == 400
    assert "assessors" in response.json()["errors"]
    assert Proposal.objects.get(reference="DFE-2026-9002").status == Status.SUBMITTED


@pytest.mark.django_db
def test_reject_without_rationale_is_400_with_the_field(client_for, rita, alice) -> None:
    ProposalFactory.create(submitter=alice, reference="DFE-2026-9002")

    response = client_for(rita).post(
        "/api/v1/proposals/DFE-2026-9002/triage/", {"action": "reject"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "rationale: Enter the reason for rejecting the proposal",
        "errors": {"rationale": ["Enter the reason for rejecting the proposal"]},
        "code": "invalid",
    }


@pytest.mark.django_db
def test_second_reviewer_acting_on_a_decided_proposal_gets_409(client_for, rita, ravi, alice):
    ProposalFactory.create(submitter=alice, reference="DFE-2026-9002")
    client_for(rita).post(
        "/api/v1/proposals/DFE-2026-9002/triage/",
        {"action": "reject", "rationale": "Out of scope"},
        format="json",
    )

    response = client_for(ravi).post(
        "/api/v1/proposals/DFE-2026-9002/triage/",
        {"action": "request_info", "message": "More?"},
        format="json",
    )

    assert response.status_code == 409
    assert "rejected" in response.json()["detail"]


@pytest.mark.django_db
def test_merge_moves_supports_and_points_to_the_survivor(client_for, lena, alice, amir) -> None:
    ProposalFactory.create(submitter=alice, reference="DFE-2026-9002")
    duplicate = ProposalFactory.create(submitter=alice, reference="DFE-2026-9003")
    client_for(amir).post("/api/v1/proposals/DFE-2026-9003/supports/")

    response = client_for(lena).post(
        "/api/v1/proposals/DFE-2026-9003/merge/", {"into": "dfe-2026-9002"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "merged"
    assert response.json()["merged_into"] == "DFE-2026-9002"
    assert duplicate.supports.count() == 0
    survivor = client_for(amir).get("/api/v1/proposals/DFE-2026-9002/supports/").json()
    assert survivor == {"count": 1, "supported_by_you": True}


@pytest.mark.django_db
def test_comments_round_trip(client_for, alice, bob) -> None:
    ProposalFactory.create(submitter=alice, reference="DFE-2026-9002")

    posted = client_for(bob).post(
        "/api/v1/proposals/DFE-2026-9002/comments/",
        {"body": "  We did this at HO  "},
        format="json",
    )
    listed = client_for(alice).get("/api/v1/proposals/DFE-2026-9002/comments/").json()

    assert posted.status_code == 201
    assert [(c["author"], c["department"], c["body"]) for c in listed] == [
        ("Bob Brown", "home-office", "We did this at HO")
    ]


@pytest.mark.django_db
def test_delete_draft_is_204_and_the_row_goes(client_for, alice) -> None:
    ProposalFactory.create(submitter=alice, status=Status.DRAFT, reference="DFE-2026-9001")

    response = client_for(alice).delete("/api/v1/proposals/DFE-2026-9001/")

    assert response.status_code == 204
    assert not Proposal.objects.filter(reference="DFE-2026-9001").exists()


@pytest.mark.django_db
def test_detail_hides_department_only_proposal_from_analyst(client_for, ana, alice) -> None:
    ProposalFactory.create(
        submitter=alice,
        reference="DFE-2026-9003",
        visibility=Visibility.DEPARTMENT,
        cost_band=CostBand.UNDER_10K,
    )

    response = client_for(ana).get("/api/v1/proposals/DFE-2026-9003/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found", "code": "not_found"}
