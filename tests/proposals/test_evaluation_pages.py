"""The experiment form to the GOV.UK patterns (date input, add another, plain
errors) and the evaluation plan (Magenta Book), through the real pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import Department
from proposals import services
from proposals.enums import ExperimentStatus
from proposals.models import EvaluationPlan, Experiment
from tests.proposals.review_world import approved, planned, with_outcome


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _date(name: str, day: str, month: str, year: str) -> dict[str, str]:
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def _experiment_post(lead, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Pilot",
        "we_believe": "reading forms automatically",
        "will_result_in": "less retyping",
        "we_will_know_when": "hours halve",
        "lead": lead.pk,
        **_date("starts_on", "5", "1", "2026"),
        **_date("ends_on", "27", "3", "2026"),
        **extra,
    }


def _metric(i: int, name: str = "Hours", **parts: str) -> dict[str, str]:
    row = {"name": name, "unit": "hours", "baseline": "10", "target": "5", "direction": "decrease"}
    row.update(parts)
    return {f"metrics-{i}-{k}": v for k, v in row.items()}


def _summary(page: str) -> list[str]:
    """The texts of the GOV.UK error summary's links."""
    body = page.split('govuk-error-summary__list">', 1)
    if len(body) < 2:
        return []
    items = body[1].split("</ul>", 1)[0]
    return [
        re.sub(r"\s+", " ", t).strip() for t in re.findall(r'<a href="[^"]*">([^<]*)</a>', items)
    ]


# --- the experiment form -------------------------------------------------------------


@pytest.mark.django_db
def test_experiment_form_uses_the_govuk_date_input_not_a_date_picker(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    page = _client(lena).get(f"/proposals/{proposal.reference}/experiments/new/").content.decode()
    assert 'type="date"' not in page
    for part in ("day", "month", "year"):
        assert f'name="starts_on-{part}"' in page
        assert f'name="ends_on-{part}"' in page
    assert 'class="govuk-date-input"' in page
    assert 'inputmode="numeric"' in page


@pytest.mark.django_db
def test_experiment_date_errors_are_govuk_messages(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    data = _experiment_post(lena, **_metric(0))
    data.update(_date("starts_on", "5", "", "2026"))
    data.update(_date("ends_on", "31", "2", "2026"))
    response = _client(lena).post(f"/proposals/{proposal.reference}/experiments/new/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert _summary(page) == [
        "Start date must include a month",
        "End date must be a real date",
    ]
    # The summary links to the input in error; only that input is marked.
    assert 'href="#id_starts_on-month"' in page
    assert re.search(r'govuk-input--error"\s+id="id_starts_on-month"', page)
    assert not re.search(r'govuk-input--error"\s+id="id_starts_on-day"', page)
    # What was typed stays.
    assert (
        'id="id_starts_on-day" name="starts_on-day" type="text" inputmode="numeric" value="5"'
        in page
    )
    assert proposal.experiments.count() == 0


@pytest.mark.django_db
def test_experiment_end_before_start_is_a_plain_error_not_a_constraint_name(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    data = _experiment_post(lena, **_metric(0))
    data.update(_date("ends_on", "1", "1", "2026"))
    page = _client(lena).post(f"/proposals/{proposal.reference}/experiments/new/", data)
    text = page.content.decode()
    assert _summary(text) == ["End date must be the same as or after the start date"]
    assert "Constraint" not in text
    assert "experiment_dates_ordered" not in text


@pytest.mark.django_db
def test_the_service_never_answers_with_a_constraint_or_framework_message(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    with pytest.raises(Exception) as caught:
        services.experiment_plan(
            proposal=proposal,
            actor=lena,
            data={"title": "", "starts_on": dt.date(2026, 2, 1), "ends_on": dt.date(2026, 1, 1)},
            metrics=[{"name": "", "unit": "", "baseline": "x", "target": "NaN", "direction": ""}],
        )
    errors = caught.value.message_dict  # type: ignore[attr-defined]
    assert errors == {
        "title": ["Enter what the experiment is called"],
        "we_believe": ["Enter what you believe"],
        "will_result_in": ["Enter what it will result in"],
        "we_will_know_when": ["Enter how you will know you are right"],
        "ends_on": ["End date must be the same as or after the start date"],
        "metrics-0-baseline": ["Enter the baseline of metric 1 as a number, like 12 or 3.5"],
        "metrics-0-target": ["Enter the target of metric 1 as a number, like 12 or 3.5"],
        "metrics-0-name": ["Enter the name of metric 1"],
        "metrics-0-unit": ["Enter the unit of metric 1"],
        "metrics-0-direction": ["Select whether metric 1 should go up or down"],
    }


@pytest.mark.django_db
def test_metric_rows_name_each_missing_part(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    data = _experiment_post(lena, **_metric(0, unit="", baseline="lots", direction=""))
    page = _client(lena).post(f"/proposals/{proposal.reference}/experiments/new/", data)
    assert _summary(page.content.decode()) == [
        "Enter the unit of metric 1",
        "Enter the baseline of metric 1 as a number, like 12 or 3.5",
        "Select whether metric 1 should go up or down",
    ]
    assert "This field is required." not in page.content.decode()


@pytest.mark.django_db
def test_add_another_metric_keeps_what_was_typed_and_checks_nothing(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    url = f"/proposals/{proposal.reference}/experiments/new/"
    data = _experiment_post(lena, **_metric(0, name="Hours retyping"), add_metric="1")
    data["title"] = ""  # missing, but adding a row is not submitting
    response = _client(lena).post(url, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" not in page
    assert 'name="metrics-1-name"' in page
    assert 'value="Hours retyping"' in page
    assert 'name="starts_on-day" type="text" inputmode="numeric" value="5"' in page
    assert Experiment.objects.count() == 0


@pytest.mark.django_db
def test_an_experiment_with_many_metrics_saves_every_row(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    rows: dict[str, str] = {}
    for i in range(7):
        rows.update(_metric(i, name=f"Metric {i + 1}"))
    response = _client(lena).post(
        f"/proposals/{proposal.reference}/experiments/new/", _experiment_post(lena, **rows)
    )
    assert response.status_code == 302
    experiment = proposal.experiments.get()
    assert [m.name for m in experiment.metrics.all()] == [f"Metric {i}" for i in range(1, 8)]
    assert experiment.starts_on == dt.date(2026, 1, 5)


@pytest.mark.django_db
def test_removing_a_metric_row_drops_it(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    data = _experiment_post(
        lena, **_metric(0, name="Keep"), **_metric(1, name="Drop"), remove_metric="1"
    )
    page = _client(lena).post(f"/proposals/{proposal.reference}/experiments/new/", data)
    text = page.content.decode()
    assert 'value="Keep"' in text
    assert 'value="Drop"' not in text
    assert 'name="metrics-1-name"' not in text


# --- the evaluation plan -------------------------------------------------------------


def _plan_post(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "evaluation_types": ["impact", "process"],
        "impact_designs": ["rct"],
        "process_designs": ["interviews", "surveys"],
        "brief_description": "A trial in two offices, with interviews of caseworkers",
        "lead_department": Department.objects.get(slug="dfe").pk,
        "cost_gbp": "15000",
        "plan_link": "https://www.gov.uk/government/publications/ocr-pilot-evaluation-plan",
        **_date("evaluation_start", "1", "12", "2025"),
        **_date("evaluation_end", "30", "6", "2026"),
        **_date("intervention_start", "5", "1", "2026"),
        **_date("intervention_end", "27", "3", "2026"),
        **_date("final_report_due", "19", "6", "2026"),
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_the_evaluation_form_starts_from_the_experiment_and_the_proposal(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    home_office = Department.objects.get(slug="home-office")
    proposal.collaborating_departments.add(home_office)
    experiment = planned(proposal, lena)
    page = _client(lena).get(f"/experiments/{experiment.pk}/evaluation/").content.decode()
    assert "Plan the evaluation" in page
    # Lead: the proposal's department; partners: its collaborating departments.
    dfe = Department.objects.get(slug="dfe")
    assert re.search(rf'<option value="{dfe.pk}" selected>', page)
    assert re.search(rf'value="{home_office.pk}" checked', page)
    # Intended dates from the experiment; the report 12 weeks after it ends.
    assert 'name="intervention_start-day" type="text" inputmode="numeric" value="5"' in page
    assert 'name="final_report_due-day" type="text" inputmode="numeric" value="19"' in page
    assert 'name="final_report_due-month" type="text" inputmode="numeric" value="6"' in page


@pytest.mark.django_db
def test_planning_an_evaluation_saves_it_and_shows_it(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    experiment = planned(proposal, lena)
    response = _client(lena).post(f"/experiments/{experiment.pk}/evaluation/", _plan_post())
    assert response.status_code == 302
    plan = EvaluationPlan.objects.get(experiment=experiment)
    assert plan.evaluation_types == ["impact", "process"]
    assert plan.impact_designs == ["rct"]
    assert plan.process_designs == ["interviews", "surveys"]
    assert plan.economic_designs == []
    assert plan.cost_gbp == 15000
    assert plan.final_report_due == dt.date(2026, 6, 19)
    page = _client(lena).get(f"/experiments/{experiment.pk}/").content.decode()
    assert "Impact; Process" in page
    assert "Randomised controlled trial" in page
    assert "Interviews; Surveys" in page
    assert "Change the evaluation plan" in page


@pytest.mark.django_db
def test_evaluation_plan_errors_are_plain_english(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    experiment = planned(proposal, lena)
    data = _plan_post(
        evaluation_types=["impact", "economic", "other"],
        impact_designs=[],
        brief_description="",
        plan_link="www.example.com/plan",
        **_date("evaluation_end", "1", "11", "2025"),
        **_date("final_report_published", "1", "7", "2026"),
    )
    response = _client(lena).post(f"/experiments/{experiment.pk}/evaluation/", data)
    page = response.content.decode()
    assert response.status_code == 200
    assert _summary(page) == [
        "Select at least one design for the impact evaluation",
        "Select at least one method for the economic evaluation",
        "Enter what the other type of evaluation is",
        "Enter a brief description of the evaluation",
        "Enter a link that starts with https://",
        "The date the evaluation ends must be the same as or after the date it starts",
        "Enter the link to the published report",
    ]
    assert "This field is required." not in page
    assert not EvaluationPlan.objects.exists()


@pytest.mark.django_db
def test_a_department_that_requires_a_plan_refuses_to_start_without_one(alice, rita, lena):
    Department.objects.filter(slug="dfe").update(evaluation_plan_required=True)
    proposal = approved(alice, rita, lena)
    experiment = planned(proposal, lena)
    client = _client(lena)
    detail = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert "asks for one before the experiment starts" in detail
    response = client.post(f"/experiments/{experiment.pk}/start/")
    page = response.content.decode()
    assert response.status_code == 400
    assert _summary(page) == [
        "Add an evaluation plan before starting the experiment: your department asks for one "
        "(Magenta Book)"
    ]
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.PLANNED
    # With a plan it starts.
    assert client.post(f"/experiments/{experiment.pk}/evaluation/", _plan_post()).status_code == 302
    assert client.post(f"/experiments/{experiment.pk}/start/").status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING


@pytest.mark.django_db
def test_without_the_setting_an_experiment_starts_with_no_plan(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    experiment = planned(proposal, lena)
    assert _client(lena).post(f"/experiments/{experiment.pk}/start/").status_code == 302


@pytest.mark.django_db
def test_the_report_link_is_recorded_after_the_proposal_closes(alice, rita, lena):
    proposal = approved(alice, rita, lena)
    experiment = planned(proposal, lena)
    client = _client(lena)
    assert client.post(f"/experiments/{experiment.pk}/evaluation/", _plan_post()).status_code == 302
    with_outcome(experiment, lena)
    assert (
        client.post(f"/proposals/{proposal.reference}/close/", {"next_step": "stop"}).status_code
        == 302
    )
    link = "https://www.gov.uk/government/publications/ocr-pilot-evaluation"
    response = client.post(
        f"/experiments/{experiment.pk}/evaluation/",
        _plan_post(report_link=link, **_date("final_report_published", "2", "6", "2026")),
    )
    assert response.status_code == 302
    plan = EvaluationPlan.objects.get(experiment=experiment)
    assert plan.report_link == link
    assert plan.final_report_published == dt.date(2026, 6, 2)


@pytest.mark.django_db
def test_only_the_departments_people_plan_its_evaluations(alice, rita, lena, bob, ana):
    proposal = approved(alice, rita, lena)
    experiment = planned(proposal, lena)
    assert _client(alice).get(f"/experiments/{experiment.pk}/evaluation/").status_code == 403
    assert (
        _client(ana).post(f"/experiments/{experiment.pk}/evaluation/", _plan_post()).status_code
        == 403
    )
    assert not EvaluationPlan.objects.exists()


# --- every date in the service is a GOV.UK date input --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/review/", "submitted_from"),
        ("/portfolio/", "period_from"),
        ("/challenges/new/", "opens_on"),
    ],
)
def test_no_page_uses_the_browsers_date_picker(lena, path, name):
    page = _client(lena).get(path).content.decode()
    assert 'type="date"' not in page
    assert f'name="{name}-day"' in page


@pytest.mark.django_db
def test_portfolio_filter_dates_in_parts_with_govuk_errors(lena):
    client = _client(lena)
    ok = client.get("/portfolio/", _date("period_from", "1", "1", "2020"))
    assert ok.status_code == 200
    assert 'name="period_from-year" type="text" inputmode="numeric" value="2020"' in (
        ok.content.decode()
    )
    # A link written before the date input still works.
    old = client.get("/portfolio/?period_from=2020-01-01").content.decode()
    assert 'name="period_from-month" type="text" inputmode="numeric" value="1"' in old
    bad = client.get("/portfolio/", _date("period_to", "1", "", "20")).content.decode()
    assert "Latest submission date must include a month" in bad


@pytest.mark.django_db
def test_triage_filter_dates_say_what_is_wrong(rita):
    page = _client(rita).get("/review/", _date("submitted_from", "31", "2", "2026"))
    assert "Earliest submission date must be a real date" in page.content.decode()
