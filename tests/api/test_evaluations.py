"""/api/v1/evaluations/: the Evaluation Registry's fields, for the plans of
experiments the caller may see, with the same values as the report; and the
start of an experiment refused (400, 409) as on the page."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Department
from proposals import reports, services
from proposals.enums import ExperimentStatus
from tests.proposals.review_world import approved, planned
from tests.workers.test_evaluation_registry import HEADER, evaluations, plan

__all__ = ["evaluations"]  # the fixture, shared with the report's tests


@pytest.mark.django_db
def test_evaluation_list_shows_the_visible_plans_with_the_registry_fields(
    client_for, evaluations, lena, bob
):
    response = client_for(lena).get("/api/v1/evaluations/")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert sorted(r["title"] for r in results) == ["Pilot in two offices", "Second pilot"]
    for row in results:
        assert set(HEADER) <= set(row)
    first = next(r for r in results if r["title"] == "Pilot in two offices")
    planned_plan = evaluations["planned"]
    assert first["id"] == planned_plan.pk
    assert first["experiment"] == planned_plan.experiment_id
    assert first["proposal"] == planned_plan.experiment.proposal.reference
    assert first["partner_departments"] == ["Government Digital Service", "Home Office"]
    assert first["evaluation_types"] == ["impact", "economic"]
    assert first["impact_designs"] == ["rct", "difference_in_differences"]
    assert first["status"] == "planned"
    assert first["visibility"] == "civil_service"
    assert first["evaluation_start"] == "2025-12-01"
    assert first["evaluation_cost_gbp"] == 12000
    titles = sorted(
        r["title"] for r in client_for(bob).get("/api/v1/evaluations/").json()["results"]
    )
    assert titles == ["Home Office trial", "Pilot in two offices", "Second pilot"]


@pytest.mark.django_db
def test_the_api_and_the_registry_report_agree(client_for, evaluations, lena):
    out = io.BytesIO()
    reports.generate(user=lena, kind="evaluation_registry", fmt="csv", filters={}, out=out)
    report = {
        row[0]: dict(zip(HEADER, row, strict=True))
        for row in list(csv.reader(io.StringIO(out.getvalue().decode())))[1:]
    }
    for row in client_for(lena).get("/api/v1/evaluations/").json()["results"]:
        as_cells = {
            k: ";".join(v) if isinstance(v, list) else ("" if v is None else str(v))
            for k, v in row.items()
            if k in HEADER
        }
        assert as_cells == report[row["reference"]]


@pytest.mark.django_db
def test_evaluation_detail_and_filters(client_for, evaluations, lena, ana):
    complete = evaluations["complete"]
    client = client_for(lena)
    detail = client.get(f"/api/v1/evaluations/{complete.pk}/")
    assert detail.status_code == 200
    assert detail.json()["link_to_published_evaluation"].startswith("https://www.gov.uk/")
    hidden = evaluations["home_office"]
    assert client_for(ana).get(f"/api/v1/evaluations/{hidden.pk}/").status_code == 404
    statuses = client.get("/api/v1/evaluations/", {"status": "complete"}).json()["results"]
    assert [r["title"] for r in statuses] == ["Second pilot"]
    bad = client.get("/api/v1/evaluations/", {"status": "finished"})
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]


@pytest.mark.django_db
def test_evaluation_list_runs_a_fixed_number_of_queries(client_for, evaluations, lena):
    client = client_for(lena)
    client.get("/api/v1/evaluations/")  # the token's last_used_at is written once: not counted
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/evaluations/", {"page_size": 1}).status_code == 200
    with CaptureQueriesContext(connection) as two:
        assert len(client.get("/api/v1/evaluations/").json()["results"]) == 2
    assert len(one) == len(two)


@pytest.mark.django_db
def test_starting_an_experiment_without_a_required_plan_is_a_400(client_for, alice, rita, lena):
    Department.objects.filter(slug="dfe").update(evaluation_plan_required=True)
    experiment = planned(approved(alice, rita, lena), lena)
    client = client_for(lena)
    response = client.post(f"/api/v1/experiments/{experiment.pk}/start/")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == {
        "evaluation_plan": [
            "Add an evaluation plan before starting the experiment: your department asks "
            "for one (Magenta Book)"
        ]
    }
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.PLANNED
    plan(experiment, lena)
    started = client.post(f"/api/v1/experiments/{experiment.pk}/start/")
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "running"
    again = client.post(f"/api/v1/experiments/{experiment.pk}/start/")
    assert again.status_code == 409
    # Started: its evaluation is ongoing, and the change feed carries it.
    [row] = client.get("/api/v1/evaluations/").json()["results"]
    assert row["status"] == "ongoing"


@pytest.mark.django_db
def test_only_leads_start_experiments_through_the_api(client_for, alice, rita, lena):
    experiment = planned(approved(alice, rita, lena), lena)
    assert client_for(alice).post(f"/api/v1/experiments/{experiment.pk}/start/").status_code == 403
    read_only = client_for(lena, write=False)
    assert read_only.post(f"/api/v1/experiments/{experiment.pk}/start/").status_code == 403
    services.experiment_start(experiment=experiment, actor=lena)
