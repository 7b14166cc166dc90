"""The exports stream: a fixed number of queries however many rows (5 and 50 cost
the same), the same bytes as the exports have always written, and each reader's
export holds exactly what the visibility rules let them see.

The expected files are built here independently, the slow way the rules read:
one proposal at a time through the models and `selectors` (its themes and
departments by name, its newest decision the viewer may read), each cell
written by the export's documented rules (docs/data-dictionary.md: codes,
ISO 8601 dates, `yes`/`no`, lists joined with "; ", `'` before a formula).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Department, User
from proposals import registry, reports
from proposals.enums import DecisionKind, ExperimentStatus, ReportStatus, Status, Visibility
from proposals.models import (
    Challenge,
    Decision,
    EvaluationPlan,
    Experiment,
    Metric,
    MetricActual,
    Outcome,
    Proposal,
    Report,
    Theme,
)
from proposals.selectors import (
    decisions_visible_to,
    evaluations_visible_to,
    is_government_wide,
    outcomes_visible_to,
    proposals_visible_to,
)
from tests.factories import ProposalFactory

SITE = "https://innovation.test"
READERS = ["ana", "lena", "alice", "bob", "hugo"]


# --- the data --------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def decide(proposal, who, kind, rationale, minutes_ago):
    return Decision.objects.create(
        proposal=proposal,
        kind=kind,
        rationale=rationale,
        decided_by=who,
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def seeded(settings, alice, amir, bob, lena, hugo, ana):
    """Proposals with everything a row can hold: several decisions (a request for
    more information seen only by its department and authors), themes,
    collaborating departments, a challenge, a merge, text a spreadsheet would run
    as a formula, commas, quotes, new lines and accents, empty numbers."""
    settings.SITE_URL = SITE
    home_office = Department.objects.get(slug="home-office")
    gds = Department.objects.get(slug="gds")
    ai, data = Theme.objects.get(slug="ai"), Theme.objects.get(slug="data-and-analytics")
    challenge = Challenge.objects.create(
        slug="paper",
        title="Less paper",
        question="How do we stop retyping?",
        department=alice.department,
        opens_on=dt.date(2026, 1, 1),
        closes_on=dt.date(2026, 12, 31),
    )
    now = timezone.now()
    formula = ProposalFactory.create(
        submitter=amir,
        title='=HYPERLINK("http://x")',
        summary='Forms, "scanned", then retyped\nby hand — café, naïve',
        problem="+44 numbers are mistyped",
        proposed_solution="@mention the team",
        expected_benefits="\tTabbed benefits",
        cost_band="under_10k",
        estimated_benefit_gbp=50000,
        hours_saved_per_year=1200,
        challenge=challenge,
        status=Status.APPROVED,
        decided_at=now,
    )
    formula.themes.set([data, ai])
    formula.collaborating_departments.set([home_office, gds])
    decide(formula, lena, DecisionKind.MORE_INFO, "Which forms?", 90)
    decide(formula, lena, DecisionKind.APPROVE, "-5% errors is worth it", 10)

    home = ProposalFactory.create(
        submitter=bob, title="Home Office idea", status=Status.MORE_INFO, decided_at=now
    )
    home.themes.set([ai])
    decide(home, hugo, DecisionKind.REJECT, "Not now", 60)
    decide(home, hugo, DecisionKind.MORE_INFO, "Tell us the cost", 5)  # the panel's only

    dfe_only = ProposalFactory.create(
        submitter=alice, visibility=Visibility.DEPARTMENT, title="DfE only"
    )
    decide(dfe_only, lena, DecisionKind.MORE_INFO, "Say more", 30)
    shared = ProposalFactory.create(
        submitter=bob, visibility=Visibility.DEPARTMENT, title="Shared with DfE"
    )
    shared.collaborating_departments.set([alice.department])
    ProposalFactory.create(submitter=alice, status=Status.DRAFT, title="Alice draft")
    merged = ProposalFactory.create(
        submitter=amir, title="A duplicate", status=Status.MERGED, merged_into=formula
    )
    merged.themes.set([data])
    tied = ProposalFactory.create(submitter=amir, title="Two decisions at once")
    same_time = now - dt.timedelta(minutes=1)
    for kind, rationale in [(DecisionKind.REJECT, "First"), (DecisionKind.APPROVE, "Second")]:
        Decision.objects.create(
            proposal=tied, kind=kind, rationale=rationale, decided_by=lena, created_at=same_time
        )
    plain = ProposalFactory.create(submitter=bob, title="Nothing else", summary="")
    return {"formula": formula, "home": home, "dfe_only": dfe_only, "plain": plain}


@pytest.fixture
def outcomes(seeded, lena, bob):
    """A published outcome with two metrics (one without an actual), an unpublished
    one at DfE, and an experiment with no metrics."""
    today = timezone.localdate()
    made = []
    cases: list[tuple[str, bool, list[tuple[str, str, str, str | None]]]] = [
        ("formula", False, [("Minutes per form", "12", "6", "7.50"), ("Errors", "40", "10", None)]),
        ("home", True, [("Calls", "100.25", "50", "49")]),
        ("plain", True, []),
    ]
    for key, published, metrics in cases:
        proposal = seeded[key]
        experiment = Experiment.objects.create(
            proposal=proposal,
            # As experiment_plan writes it (the rule, for an analyst's lists).
            government_wide=is_government_wide(proposal.status, proposal.visibility),
            title=f"Trial of {proposal.title}",
            we_believe="OCR, then a check",
            will_result_in="speed",
            we_will_know_when="time halves",
            lead=lena if key == "formula" else bob,
            starts_on=today - dt.timedelta(days=30),
            ends_on=today,
            budget_gbp=15000,
            status=ExperimentStatus.COMPLETED,
        )
        outcome = Outcome.objects.create(
            experiment=experiment,
            government_wide=experiment.government_wide,
            result="met",
            lessons="=Handwriting varies",
            recommendation="iterate",
            realised_benefit_gbp=20000 if published else None,
            published=published,
            published_at=timezone.now() if published else None,
            recorded_by=lena,
        )
        for name, baseline, target, actual in metrics:
            metric = Metric.objects.create(
                experiment=experiment,
                name=name,
                unit="minutes",
                baseline=Decimal(baseline),
                target=Decimal(target),
                direction="decrease",
            )
            if actual is not None:
                MetricActual.objects.create(outcome=outcome, metric=metric, value=Decimal(actual))
        made.append(outcome)
    return made


@pytest.fixture
def evaluations(outcomes, lena, bob):
    """An evaluation plan on each experiment, partners on one, dates recorded on another."""
    gds, home_office = (
        Department.objects.get(slug="gds"),
        Department.objects.get(slug="home-office"),
    )
    plans = []
    for index, outcome in enumerate(outcomes):
        experiment = outcome.experiment
        plan = EvaluationPlan.objects.create(
            experiment=experiment,
            evaluation_types=["impact", "economic"] if index == 0 else ["process"],
            impact_designs=["rct"] if index == 0 else [],
            process_designs=[] if index == 0 else ["surveys", "interviews"],
            brief_description="Compare two offices, one that carries on as now",
            lead_department=experiment.proposal.department,
            cost_gbp=12000 if index else None,
            plan_link="https://www.gov.uk/plan",
            report_link="https://www.gov.uk/report" if index == 1 else "",
            reason_unpublished="sign_off",
            evaluation_start=dt.date(2025, 12, 1),
            evaluation_end=dt.date(2026, 6, 30),
            intervention_start=dt.date(2026, 1, 5),
            intervention_end=dt.date(2026, 3, 27),
            final_report_due=dt.date(2026, 6, 19),
            actual_evaluation_start=dt.date(2025, 12, 8) if index == 1 else None,
            final_report_published=dt.date(2026, 6, 2) if index == 1 else None,
        )
        if index == 0:
            plan.partner_departments.set([home_office, gds])
        plans.append(plan)
    return plans


# --- the expected files, built one object at a time ---------------------------------------

FORMULA_STARTS = set("=+-@") | {chr(n) for n in range(32)} | {"\x7f"}


def csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        value = "; ".join(value)
    if isinstance(value, str):
        return "'" + value if value and value[0] in FORMULA_STARTS else value
    return value


def json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def names(related) -> list[str]:
    return list(related.order_by("name").values_list("name", flat=True))


def expected_proposals(user: User) -> list[list[Any]]:
    rows = []
    for p in proposals_visible_to(user).order_by("reference"):
        decision = decisions_visible_to(user, p).first()
        rows.append(
            [
                p.reference,
                p.title,
                p.status,
                p.department.name,
                p.department.acronym,
                p.visibility,
                p.summary,
                p.problem,
                p.who_has_the_problem,
                p.proposed_solution,
                p.expected_benefits,
                p.cost_band,
                p.estimated_benefit_gbp,
                p.hours_saved_per_year,
                names(p.themes),
                names(p.collaborating_departments),
                p.challenge.title if p.challenge else None,
                p.submitter.full_name,
                decision.kind if decision else None,
                decision.rationale if decision else None,
                p.merged_into.reference if p.merged_into else None,
                p.created_at,
                p.updated_at,
                p.submitted_at,
                p.decided_at,
                f"{SITE}/proposals/{p.reference}/",
            ]
        )
    return rows


def expected_outcomes(user: User) -> list[list[Any]]:
    rows = []
    visible = outcomes_visible_to(user).filter(
        experiment__proposal__in=proposals_visible_to(user).values("pk")
    )
    for o in visible.order_by("pk"):
        e, p = o.experiment, o.experiment.proposal
        metrics = []
        for m in e.metrics.order_by("id"):
            actual = MetricActual.objects.filter(metric=m, outcome=o).first()
            metrics.append(
                f"{m.name}: baseline {m.baseline}, target {m.target} {m.unit}"
                + (f", actual {actual.value}" if actual else "")
            )
        rows.append(
            [
                p.reference,
                p.title,
                p.department.name,
                e.title,
                e.we_believe,
                e.will_result_in,
                e.we_will_know_when,
                e.starts_on,
                e.ends_on,
                e.budget_gbp,
                e.status,
                o.result,
                o.recommendation,
                o.realised_benefit_gbp,
                o.lessons,
                o.published,
                o.published_at,
                metrics,
            ]
        )
    return rows


def expected_registry(user: User) -> list[list[Any]]:
    rows = []
    visible = evaluations_visible_to(user).filter(
        experiment__proposal__in=proposals_visible_to(user).values("pk")
    )
    for plan in visible.order_by("pk"):
        e = plan.experiment
        rows.append(
            [
                f"{e.proposal.reference}-E{e.pk}",
                e.title,
                plan.lead_department.name,
                ";".join(names(plan.partner_departments)),
                str(registry.status_of(plan)),
                ";".join(plan.evaluation_types),
                ";".join(plan.impact_designs),
                ";".join(plan.process_designs),
                ";".join(plan.economic_designs),
                plan.brief_description,
                plan.cost_gbp,
                plan.plan_link,
                plan.report_link,
                "" if plan.report_link else plan.reason_unpublished,
                str(registry.visibility_of(plan)),
                (plan.actual_evaluation_start or plan.evaluation_start).isoformat(),
                (plan.actual_evaluation_end or plan.evaluation_end).isoformat(),
                (plan.actual_intervention_start or plan.intervention_start).isoformat(),
                (plan.actual_intervention_end or plan.intervention_end).isoformat(),
                plan.final_report_due.isoformat(),
                plan.final_report_published.isoformat() if plan.final_report_published else None,
            ]
        )
    return rows


def expected_csv(columns: list[str], rows: list[list[Any]]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
    return text.getvalue().encode()


def expected_json(kind: str, name: str, columns: list[str], rows, generated_at: str) -> bytes:
    """The JSON writer's layout: the head, then one record a line inside "rows"."""
    head = json.dumps(
        {"kind": kind, "generated_at": generated_at, "filters": {}}, ensure_ascii=False
    )
    records = ",\n".join(
        json.dumps(
            {c: json_value(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False
        )
        for row in rows
    )
    return (
        f'{head[:-1]}, "tables": [{{"name": {json.dumps(name)}, '
        f'"columns": {json.dumps(columns)}, "rows": [{records}]}}]}}\n'
    ).encode()


def export(user: User, kind: str, fmt: str) -> bytes:
    out = io.BytesIO()
    reports.generate(user=user, kind=kind, fmt=fmt, filters={}, out=out)
    return out.getvalue()


PROPOSAL_LABELS = [label for label, _ in reports.PROPOSAL_COLUMNS]
OUTCOME_LABELS = [label for label, _ in reports.OUTCOME_COLUMNS]
REGISTRY_LABELS = list(reports.REGISTRY_COLUMNS)


# --- the same bytes --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", READERS)
def test_proposals_csv_is_byte_for_byte_the_expected_file(who, seeded, request):
    user = request.getfixturevalue(who)

    assert export(user, "proposals", "csv") == expected_csv(
        PROPOSAL_LABELS, expected_proposals(user)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["ana", "lena"])
def test_proposals_json_is_byte_for_byte_the_expected_file(who, seeded, request):
    user = request.getfixturevalue(who)

    written = export(user, "proposals", "json")

    generated_at = json.loads(written)["generated_at"]
    rows = expected_proposals(user)
    assert written == expected_json("proposals", "Proposals", PROPOSAL_LABELS, rows, generated_at)


@pytest.mark.django_db
def test_proposals_ods_holds_the_expected_cells(seeded, lena):
    expected = io.BytesIO()
    reports.write_ods(
        [reports.Table("Proposals", PROPOSAL_LABELS, expected_proposals(lena))], expected
    )

    written = export(lena, "proposals", "ods")

    def content(data: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(data)) as ods:
            return ods.read("content.xml")

    assert content(written) == content(expected.getvalue())


@pytest.mark.django_db
@pytest.mark.parametrize("who", READERS)
def test_outcomes_and_registry_are_byte_for_byte_the_expected_files(who, evaluations, request):
    user = request.getfixturevalue(who)

    assert export(user, "outcomes", "csv") == expected_csv(OUTCOME_LABELS, expected_outcomes(user))
    assert export(user, "evaluation_registry", "csv") == expected_csv(
        REGISTRY_LABELS, expected_registry(user)
    )
    written = export(user, "outcomes", "json")
    generated_at = json.loads(written)["generated_at"]
    rows = expected_outcomes(user)
    assert written == expected_json(
        "outcomes", "Experiment outcomes", OUTCOME_LABELS, rows, generated_at
    )


# --- what each reader sees ------------------------------------------------------------------


def column(data: bytes, label: str) -> dict[str, str]:
    """Reference → the label's cell, from a CSV export."""
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    return {row["Reference"]: row[label] for row in rows}


@pytest.mark.django_db
def test_an_analysts_export_has_no_drafts_department_work_or_panel_only_decisions(seeded, ana):
    decisions = column(export(ana, "proposals", "csv"), "Decision")

    visible = set(proposals_visible_to(ana).values_list("reference", flat=True))
    assert set(decisions) == visible
    assert seeded["dfe_only"].reference not in decisions
    assert not Proposal.objects.filter(reference__in=decisions, status=Status.DRAFT).exists()
    # The Home Office's request for more information is its panel's: the analyst
    # sees the rejection before it.
    assert decisions[seeded["home"].reference] == "reject"
    assert decisions[seeded["formula"].reference] == "approve"


@pytest.mark.django_db
def test_a_department_users_export_has_its_departments_work_and_panel_decisions(seeded, lena, hugo):
    for_lena = column(export(lena, "proposals", "csv"), "Decision rationale")
    for_hugo = column(export(hugo, "proposals", "csv"), "Decision rationale")

    assert set(for_lena) == set(proposals_visible_to(lena).values_list("reference", flat=True))
    assert for_lena[seeded["dfe_only"].reference] == "Say more"
    assert seeded["dfe_only"].reference not in for_hugo
    assert for_lena[seeded["home"].reference] == "Not now"  # DfE's panel: not Home Office's
    assert for_hugo[seeded["home"].reference] == "Tell us the cost"


@pytest.mark.django_db
def test_unpublished_outcomes_are_only_in_their_departments_export(outcomes, ana, lena):
    for_ana = column(export(ana, "outcomes", "csv"), "Published")
    for_lena = column(export(lena, "outcomes", "csv"), "Published")

    unpublished = outcomes[0].experiment.proposal.reference
    assert unpublished not in for_ana
    assert for_lena[unpublished] == "no"
    assert set(for_ana.values()) == {"yes"}


# --- a fixed number of queries ------------------------------------------------------------


def add_proposals(n: int, author: User, other: User) -> None:
    ai, data = Theme.objects.get(slug="ai"), Theme.objects.get(slug="data-and-analytics")
    gds = Department.objects.get(slug="gds")
    for index in range(n):
        proposal = ProposalFactory.create(submitter=author if index % 2 else other)
        proposal.themes.set([ai, data][: index % 3])
        proposal.collaborating_departments.set([gds] if index % 2 else [])
        decide(proposal, other, DecisionKind.APPROVE, f"Reason {index}", index)


def add_evaluations(proposals, lead: User) -> None:
    gds = Department.objects.get(slug="gds")
    today = timezone.localdate()
    for proposal in proposals:
        experiment = Experiment.objects.create(
            proposal=proposal,
            # As experiment_plan writes it (the rule, for an analyst's lists).
            government_wide=is_government_wide(proposal.status, proposal.visibility),
            title="Trial",
            we_believe="b",
            will_result_in="r",
            we_will_know_when="k",
            lead=lead,
            starts_on=today,
            ends_on=today,
        )
        outcome = Outcome.objects.create(
            experiment=experiment,
            government_wide=experiment.government_wide,
            result="met",
            lessons="l",
            recommendation="iterate",
            published=True,
            published_at=timezone.now(),
            recorded_by=lead,
        )
        for name in ["A", "B"]:
            metric = Metric.objects.create(
                experiment=experiment, name=name, unit="u", baseline=1, target=2, direction="x"
            )
            MetricActual.objects.create(outcome=outcome, metric=metric, value=3)
        plan = EvaluationPlan.objects.create(
            experiment=experiment,
            brief_description="d",
            lead_department=proposal.department,
            evaluation_start=today,
            evaluation_end=today,
            intervention_start=today,
            intervention_end=today,
            final_report_due=today,
        )
        plan.partner_departments.set([gds])


def queries_of(user: User, kind: str, fmt: str = "csv") -> tuple[int, int]:
    """(queries, rows) of an export, with a chunk of 7 rows, so that 50 are 8 chunks."""
    with CaptureQueriesContext(connection) as captured:
        rows = reports.generate(user=user, kind=kind, fmt=fmt, filters={}, out=io.BytesIO())
    return len(captured.captured_queries), rows


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_proposals_export_costs_the_same_queries_for_5_and_50_rows(
    fmt, alice, amir, lena, settings
):
    settings.REPORT_CHUNK_SIZE = 7
    add_proposals(5, alice, amir)
    few = queries_of(lena, "proposals", fmt)
    add_proposals(45, alice, amir)

    many = queries_of(lena, "proposals", fmt)

    # The count (for progress) and the one query of rows, fetched by a server-side
    # cursor on PostgreSQL (its FETCHes are not statements), stepped on SQLite.
    assert (few, many) == ((2, 5), (2, 50))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "json", "ods"])
def test_outcomes_and_registry_cost_the_same_queries_for_5_and_50_rows(
    fmt, alice, amir, lena, settings
):
    settings.REPORT_CHUNK_SIZE = 7
    add_proposals(5, alice, amir)
    add_evaluations(Proposal.objects.all(), lena)
    few = queries_of(lena, "outcomes", fmt), queries_of(lena, "evaluation_registry", fmt)
    before = set(Proposal.objects.values_list("pk", flat=True))
    add_proposals(45, alice, amir)
    add_evaluations(Proposal.objects.exclude(pk__in=before), lena)

    many = queries_of(lena, "outcomes", fmt), queries_of(lena, "evaluation_registry", fmt)

    # Each: the count (for progress) and its one query of rows, every list and figure
    # in it (the outcomes' metrics, the plans' partners and codes), however many rows.
    assert (few, many) == (((2, 5), (2, 5)), ((2, 50), (2, 50)))


# --- a build reads on its own connection ---------------------------------------------------


def idle_in_transaction() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND state LIKE 'idle in transaction%%'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_build_streams_on_a_read_only_connection_and_writes_its_progress_meanwhile(
    seeded, lena, media, settings
):
    """Outside a transaction (as in the worker) the rows are read on a connection of
    the build's own, in one read-only transaction: the progress it writes on its
    way is committed as it goes (another connection sees it), and the file is the
    same. Its queries still count with the default connection's."""
    settings.REPORT_CHUNK_SIZE = 2
    report = Report.objects.create(requested_by=lena, kind="proposals", format="csv")
    seen: list[int] = []
    original = reports.Progress.advance

    def watch(self, units, *, rows=0):
        original(self, units, rows=rows)
        # Read on another connection: only a committed write is seen there.
        with reports.reading() as other, other.cursor() as cursor:
            key = Report._meta.pk.get_db_prep_value(report.pk, other)
            cursor.execute("SELECT row_count FROM proposals_report WHERE id = %s", [key])
            seen.append(cursor.fetchone()[0])

    reports.Progress.advance = watch  # type: ignore[method-assign]
    try:
        with CaptureQueriesContext(connection) as captured:
            assert reports.build(str(report.pk)) is True
    finally:
        reports.Progress.advance = original  # type: ignore[method-assign]

    report.refresh_from_db()
    assert report.status == ReportStatus.DONE
    rows = expected_proposals(lena)
    assert seen == [min(done, len(rows)) for done in range(2, len(rows) + 2, 2)]
    with default_storage.open(report.file.name) as handle:
        assert handle.read() == expected_csv(PROPOSAL_LABELS, rows)
    statements = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        assert "SET TRANSACTION READ ONLY" in statements
        assert sum(s.startswith("DECLARE") for s in statements) == 1
        assert idle_in_transaction() == 0


@pytest.mark.django_db(transaction=True)
def test_an_export_that_stops_half_way_ends_its_read(seeded, lena):
    class Full(io.BytesIO):
        """Fills up once the rows have begun (the fifth write is the first row)."""

        writes = 0

        def write(self, data):  # type: ignore[override]
            self.writes += 1
            if self.writes == 5:
                raise OSError("No space left on device")
            return super().write(data)

    with pytest.raises(OSError, match="No space"):
        reports.generate(user=lena, kind="proposals", fmt="json", filters={}, out=Full())

    if connection.vendor == "postgresql":
        assert idle_in_transaction() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["lena", "ana"])
def test_the_registry_reports_cells_are_the_apis_records_as_cells(who, evaluations, request):
    """The report's cells are made by the database (`registry_values`), the API's records
    in Python (`registry_records`): the same Registry either way."""
    user = request.getfixturevalue(who)
    queryset = reports.registry_queryset(user, {})

    made = [list(row) for row in reports.registry_values(queryset)]

    assert made == [reports.registry_cells(r) for r in reports.registry_records(queryset)]
    assert made
