"""The Evaluation Registry hand-off (report kind `evaluation_registry`): its
header is exactly the Registry's fields in order, its rows are what the
visibility selector lets the requester see, and the worker builds it in every
format like the other kinds."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Department, User
from proposals import portfolio, reports, selectors, services
from proposals.enums import ReportStatus, Visibility
from proposals.models import BenefitReview, EvaluationPlan, Report
from tests.proposals.review_world import approved, planned, with_outcome

HEADER = [
    "reference",
    "title",
    "lead_department",
    "partner_departments",
    "status",
    "evaluation_types",
    "impact_designs",
    "process_designs",
    "economic_designs",
    "brief_description",
    "evaluation_cost_gbp",
    "plan_link",
    "link_to_published_evaluation",
    "reasons_unpublished",
    "visibility",
    "evaluation_start",
    "evaluation_end",
    "intervention_start",
    "intervention_end",
    "final_report_due",
    "final_report_published",
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def plan(experiment, actor, **extra: Any):
    data: dict[str, Any] = {
        "evaluation_types": ["impact", "economic"],
        "impact_designs": ["difference_in_differences", "rct"],
        "economic_designs": ["cost_benefit"],
        "brief_description": "Compare two offices with two that carry on as now",
        "cost_gbp": 12000,
        "plan_link": "https://www.gov.uk/government/publications/ocr-plan",
        "evaluation_start": dt.date(2025, 12, 1),
        "evaluation_end": dt.date(2026, 6, 30),
        "intervention_start": dt.date(2026, 1, 5),
        "intervention_end": dt.date(2026, 3, 27),
        "final_report_due": dt.date(2026, 6, 19),
        "reason_unpublished": "sign_off",
    }
    data.update(extra)
    return services.evaluation_plan_save(experiment=experiment, actor=actor, data=data)


@pytest.fixture
def evaluations(alice, rita, lena, bob, hugo):
    """A planned evaluation and a complete one at DfE (government-wide), and one at
    the Home Office on a department-only proposal."""
    home_office = Department.objects.get(slug="home-office")
    gds = Department.objects.get(slug="gds")
    dfe_proposal = approved(alice, rita, lena, title="Read scanned forms")
    dfe_proposal.collaborating_departments.set([home_office, gds])
    first = planned(dfe_proposal, lena, title="Pilot in two offices")
    planned_plan = plan(first, lena)
    second = planned(dfe_proposal, lena, title="Second pilot")
    complete_plan = plan(
        second,
        lena,
        evaluation_types=["process"],
        impact_designs=["rct"],  # not kept: not an impact evaluation
        process_designs=["surveys", "interviews"],
        actual_evaluation_start=dt.date(2025, 12, 8),
        report_link="https://www.gov.uk/government/publications/ocr-evaluation",
        final_report_published=dt.date(2026, 6, 2),
    )
    with_outcome(second, lena)
    ho_lead = hugo
    ho_lead.role = "lead"
    ho_lead.save(update_fields=["role"])
    ho_proposal = approved(bob, hugo, ho_lead, visibility=Visibility.DEPARTMENT, title="HO idea")
    ho_experiment = planned(ho_proposal, ho_lead, title="Home Office trial")
    ho_plan = plan(ho_experiment, ho_lead, evaluation_types=["other"], other_type="Audit")
    return {"planned": planned_plan, "complete": complete_plan, "home_office": ho_plan}


def _csv(user, filters=None) -> list[list[str]]:
    out = io.BytesIO()
    reports.generate(
        user=user, kind="evaluation_registry", fmt="csv", filters=filters or {}, out=out
    )
    return list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))


@pytest.mark.django_db
def test_registry_header_is_exactly_the_registry_fields_in_order(evaluations, lena):
    rows = _csv(lena)
    assert rows[0] == HEADER


@pytest.mark.django_db
def test_registry_rows_are_the_evaluations_the_requester_may_see(evaluations, lena, bob, ana):
    dfe_refs = sorted(
        f"{p.experiment.proposal.reference}-E{p.experiment_id}"
        for p in (evaluations["planned"], evaluations["complete"])
    )
    ho = evaluations["home_office"]
    ho_ref = f"{ho.experiment.proposal.reference}-E{ho.experiment_id}"
    assert sorted(r[0] for r in _csv(lena)[1:]) == dfe_refs
    assert sorted(r[0] for r in _csv(ana)[1:]) == dfe_refs  # the HO one is department-only
    assert sorted(r[0] for r in _csv(bob)[1:]) == sorted([*dfe_refs, ho_ref])


@pytest.mark.django_db
def test_registry_row_values(evaluations, lena):
    by_title = {row[1]: dict(zip(HEADER, row, strict=True)) for row in _csv(lena)[1:]}
    first = evaluations["planned"]
    assert by_title["Pilot in two offices"] == {
        "reference": f"{first.experiment.proposal.reference}-E{first.experiment_id}",
        "title": "Pilot in two offices",
        "lead_department": "Department for Education",
        # The proposal's collaborating departments, by default; ";"-separated.
        "partner_departments": "Government Digital Service;Home Office",
        "status": "planned",
        "evaluation_types": "impact;economic",
        "impact_designs": "rct;difference_in_differences",
        "process_designs": "",
        "economic_designs": "cost_benefit",
        "brief_description": "Compare two offices with two that carry on as now",
        "evaluation_cost_gbp": "12000",
        "plan_link": "https://www.gov.uk/government/publications/ocr-plan",
        "link_to_published_evaluation": "",
        "reasons_unpublished": "sign_off",
        "visibility": "civil_service",
        "evaluation_start": "2025-12-01",
        "evaluation_end": "2026-06-30",
        "intervention_start": "2026-01-05",
        "intervention_end": "2026-03-27",
        "final_report_due": "2026-06-19",
        "final_report_published": "",
    }
    second = by_title["Second pilot"]
    assert second["status"] == "complete"
    assert second["visibility"] == "public"
    assert second["evaluation_types"] == "process"
    assert second["impact_designs"] == ""
    assert second["process_designs"] == "interviews;surveys"
    assert second["evaluation_start"] == "2025-12-08"  # the actual date, once recorded
    assert second["reasons_unpublished"] == ""
    assert second["final_report_published"] == "2026-06-02"


@pytest.mark.django_db
def test_a_started_experiment_makes_its_evaluation_ongoing(evaluations, lena):
    services.experiment_start(experiment=evaluations["planned"].experiment, actor=lena)
    statuses = {row[1]: row[4] for row in _csv(lena)[1:]}
    assert statuses == {"Pilot in two offices": "ongoing", "Second pilot": "complete"}


@pytest.mark.django_db
def test_registry_report_applies_the_proposal_filters(evaluations, bob):
    rows = _csv(bob, {"department": "home-office"})
    assert [r[1] for r in rows[1:]] == ["Home Office trial"]


@pytest.mark.django_db
def test_registry_json_and_ods_carry_the_same_columns(evaluations, lena):
    out = io.BytesIO()
    reports.generate(user=lena, kind="evaluation_registry", fmt="json", filters={}, out=out)
    [table] = json.loads(out.getvalue())["tables"]
    assert table["columns"] == HEADER
    assert [list(r) for r in table["rows"]] == [HEADER, HEADER]
    assert {r["status"] for r in table["rows"]} == {"planned", "complete"}
    out = io.BytesIO()
    reports.generate(user=lena, kind="evaluation_registry", fmt="ods", filters={}, out=out)
    content = zipfile.ZipFile(io.BytesIO(out.getvalue())).read("content.xml").decode()
    assert 'table:name="Evaluation Registry"' in content
    for column in HEADER:
        assert f"<text:p>{column}</text:p>" in content


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "ods", "json"])
def test_the_worker_task_builds_the_registry_report(evaluations, lena, media, fmt):
    report = services.report_request(user=lena, kind="evaluation_registry", format=fmt, filters={})
    assert reports.build(str(report.pk)) is True
    report.refresh_from_db()
    assert (report.status, report.row_count) == (ReportStatus.DONE, 2)
    assert report.file.name.startswith("reports/evaluation_registry-")
    assert report.file.name.endswith(f".{fmt}")
    if fmt == "csv":
        with default_storage.open(report.file.name) as handle:
            assert handle.read().decode().splitlines()[0] == ",".join(HEADER)


@pytest.mark.django_db
def test_the_report_page_offers_the_registry_hand_off(lena):
    client = Client()
    client.force_login(lena)
    page = client.get("/reports/").content.decode()
    assert 'value="evaluation_registry"' in page
    assert "Evaluation Registry hand-off" in page
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_demo_data_has_evaluations_of_every_type_overdue_reports_and_benefit_reviews(
    settings, reference_data
):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=400)
    types = {
        t
        for types in EvaluationPlan.objects.values_list("evaluation_types", flat=True)
        for t in types
    }
    assert types == {"impact", "process", "economic", "other"}
    analyst = User.objects.get(email="analyst@gds.example")
    data = portfolio.portfolio(analyst, portfolio.PortfolioFilters())
    assert sum(row["overdue"] for row in data.evaluations_overdue) > 0
    assert BenefitReview.objects.filter(due_on__lte=timezone.localdate()).exists()
    out = io.BytesIO()
    rows = reports.generate(
        user=analyst, kind="evaluation_registry", fmt="csv", filters={}, out=out
    )
    assert rows == selectors.evaluations_visible_to(analyst).count() > 0
    statuses = {r[4] for r in list(csv.reader(io.StringIO(out.getvalue().decode())))[1:]}
    assert statuses == {"ongoing", "complete"}
