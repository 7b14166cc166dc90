"""Reports: what they hold equals what the selectors let each role see; formats;
formula neutralising; the build, its progress, its expiry and its access."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils import timezone

from accounts.models import Department
from proposals import portfolio as portfolio_figures
from proposals import reports, services
from proposals.enums import (
    DeliveryStatus,
    ExperimentStatus,
    NotificationKind,
    ReportStatus,
    Status,
    Visibility,
)
from proposals.exceptions import ActionNotAllowed
from proposals.models import (
    Experiment,
    Metric,
    MetricActual,
    Notification,
    Outcome,
    PortfolioSnapshot,
    Proposal,
    Report,
    Theme,
)
from proposals.selectors import is_government_wide, proposals_visible_to
from tests.factories import ProposalFactory


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def portfolio(alice, amir, bob, lena):
    """Proposals in every visibility a rule distinguishes."""
    ai = Theme.objects.get(slug="ai")
    data = Theme.objects.get(slug="data-and-analytics")
    made = {
        "alice-draft": ProposalFactory.create(
            submitter=alice, status=Status.DRAFT, title="Alice draft"
        ),
        "alice-dept": ProposalFactory.create(
            submitter=alice, visibility=Visibility.DEPARTMENT, title="DfE only"
        ),
        "amir-gov": ProposalFactory.create(submitter=amir, title='=HYPERLINK("http://x")'),
        "bob-gov": ProposalFactory.create(
            submitter=bob,
            title="Home Office idea",
            status=Status.APPROVED,
            estimated_benefit_gbp=50000,
        ),
        "bob-dept": ProposalFactory.create(
            submitter=bob, visibility=Visibility.DEPARTMENT, title="Home Office only"
        ),
        "bob-dept-collab": ProposalFactory.create(
            submitter=bob, visibility=Visibility.DEPARTMENT, title="Shared with DfE"
        ),
    }
    made["amir-gov"].themes.set([ai, data])
    made["bob-gov"].themes.set([ai])
    made["bob-dept-collab"].collaborating_departments.set([alice.department])
    return made


def export_json(user, filters=None, kind="proposals"):
    out = io.BytesIO()
    reports.generate(user=user, kind=kind, fmt="json", filters=filters or {}, out=out)
    return json.loads(out.getvalue())


def references(document):
    [table] = document["tables"]
    return sorted(row["Reference"] for row in table["rows"])


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "amir", "bob", "hugo", "lena", "ana"])
def test_proposals_export_holds_exactly_what_the_selector_shows(who, portfolio, request):
    user = request.getfixturevalue(who)

    document = export_json(user)

    expected = sorted(proposals_visible_to(user).values_list("reference", flat=True))
    assert references(document) == expected


@pytest.mark.django_db
def test_proposals_export_for_an_analyst_has_no_drafts_or_department_only_work(portfolio, ana):
    document = export_json(ana)

    assert references(document) == sorted(
        [portfolio["amir-gov"].reference, portfolio["bob-gov"].reference]
    )


@pytest.mark.django_db
def test_proposals_export_applies_the_list_filters(portfolio, alice):
    by_theme = export_json(alice, {"theme": "ai"})
    by_department = export_json(alice, {"department": "home-office"})
    by_status = export_json(alice, {"status": "approved"})
    by_search = export_json(alice, {"search": "Shared"})

    assert references(by_theme) == sorted(
        [portfolio["amir-gov"].reference, portfolio["bob-gov"].reference]
    )
    assert references(by_department) == sorted(
        [portfolio["bob-gov"].reference, portfolio["bob-dept-collab"].reference]
    )
    assert references(by_status) == [portfolio["bob-gov"].reference]
    assert references(by_search) == [portfolio["bob-dept-collab"].reference]


@pytest.mark.django_db
def test_proposals_export_row_has_every_readable_field(portfolio, ana, settings):
    settings.SITE_URL = "https://innovation.test"
    proposal = portfolio["amir-gov"]

    [table] = export_json(ana, {"theme": "data-and-analytics"})["tables"]

    [row] = table["rows"]
    assert row["Reference"] == proposal.reference
    assert row["Title"] == '=HYPERLINK("http://x")'  # JSON is data, not a spreadsheet
    assert row["Themes"] == ["Artificial intelligence", "Data and analytics"]
    assert row["Department"] == "Department for Education"
    assert row["What problem are you trying to solve?"] == "Forms are retyped by hand"
    assert row["Link"] == f"https://innovation.test/proposals/{proposal.reference}/"
    assert row["Submitted"] == proposal.submitted_at.isoformat()
    assert not any("score" in column.lower() for column in table["columns"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-5% cost", "'-5% cost"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("\x00null", "'\x00null"),
        ("Plain text", "Plain text"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_defuses_formula_starts(value, expected):
    assert reports.neutralise(value) == expected


@pytest.mark.django_db
def test_csv_export_is_utf8_and_neutralises_formulas(portfolio, alice):
    ProposalFactory.create(submitter=alice, title="Café £5 – naïve")
    out = io.BytesIO()

    rows = reports.generate(user=alice, kind="proposals", fmt="csv", filters={}, out=out)

    parsed = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    titles = {row[1] for row in parsed[1:]}
    assert parsed[0][:3] == ["Reference", "Title", "Status"]
    assert rows == len(parsed) - 1 == proposals_visible_to(alice).count()
    assert '\'=HYPERLINK("http://x")' in titles
    assert "Café £5 – naïve" in titles


@pytest.mark.django_db
def test_ods_export_is_an_opendocument_spreadsheet_with_neutralised_cells(portfolio, ana):
    out = io.BytesIO()

    reports.generate(user=ana, kind="proposals", fmt="ods", filters={}, out=out)

    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    content = archive.read("content.xml").decode()
    assert "<text:p>&apos;=HYPERLINK" in content or "<text:p>'=HYPERLINK" in content
    assert 'table:name="Proposals"' in content
    assert portfolio["bob-gov"].reference in content
    assert portfolio["bob-dept"].reference not in content


@pytest.fixture
def experiments(portfolio, lena, bob):
    """An outcome, published, on a government proposal; another unpublished on DfE's."""
    today = timezone.localdate()
    made = []
    for key, published, result in [
        ("bob-gov", True, "met"),
        ("amir-gov", False, "not_met"),
    ]:
        proposal = portfolio[key]
        experiment = Experiment.objects.create(
            proposal=proposal,
            # As experiment_plan writes it (the rule, for an analyst's lists).
            government_wide=is_government_wide(proposal.status, proposal.visibility),
            title=f"Trial {key}",
            we_believe="OCR",
            will_result_in="speed",
            we_will_know_when="time halves",
            lead=lena if key == "amir-gov" else bob,
            starts_on=today - dt.timedelta(days=30),
            ends_on=today,
            status=ExperimentStatus.COMPLETED,
        )
        metric = Metric.objects.create(
            experiment=experiment,
            name="Minutes per form",
            unit="minutes",
            baseline=Decimal("12"),
            target=Decimal("6"),
            direction="decrease",
        )
        outcome = Outcome.objects.create(
            experiment=experiment,
            government_wide=experiment.government_wide,
            result=result,
            lessons="Handwriting varies",
            recommendation="iterate",
            realised_benefit_gbp=20000,
            published=published,
            published_at=timezone.now() if published else None,
            recorded_by=lena,
        )
        MetricActual.objects.create(outcome=outcome, metric=metric, value=Decimal("7.5"))
        made.append(outcome)
    return made


@pytest.mark.django_db
def test_outcomes_report_shows_published_outcomes_and_the_departments_own(experiments, ana, lena):
    [for_ana] = export_json(ana, kind="outcomes")["tables"]
    [for_lena] = export_json(lena, kind="outcomes")["tables"]

    assert [row["Experiment"] for row in for_ana["rows"]] == ["Trial bob-gov"]
    assert [row["Experiment"] for row in for_lena["rows"]] == ["Trial bob-gov", "Trial amir-gov"]
    assert for_ana["rows"][0]["Metrics"] == [
        "Minutes per form: baseline 12.00, target 6.00 minutes, actual 7.50"
    ]


@pytest.mark.django_db
def test_portfolio_summary_counts_by_stage_department_and_theme(portfolio, experiments, ana):
    now = timezone.now()
    Proposal.objects.filter(pk=portfolio["bob-gov"].pk).update(
        submitted_at=now - dt.timedelta(days=10), decided_at=now
    )

    tables = {t["name"]: t["rows"] for t in export_json(ana, kind="portfolio")["tables"]}

    assert tables["By stage, department and theme"] == [
        {
            "Status": "Submitted",
            "Department": "Department for Education",
            "Theme": "Artificial intelligence",
            "Proposals": 1,
        },
        {
            "Status": "Submitted",
            "Department": "Department for Education",
            "Theme": "Data and analytics",
            "Proposals": 1,
        },
        {
            "Status": "Approved",
            "Department": "Home Office",
            "Theme": "Artificial intelligence",
            "Proposals": 1,
        },
    ]
    assert tables["Days to decision"] == [
        {"Department": "Home Office", "Proposals decided": 1, "Median days to decision": 10.0},
        {"Department": "All departments", "Proposals decided": 1, "Median days to decision": 10.0},
    ]
    assert tables["Experiment results"] == [
        {"Department": "Home Office", "Result": "met", "Outcomes": 1}
    ]
    assert tables["Estimated and realised benefit"] == [
        {
            "Department": "Home Office",
            "Proposals approved": 1,
            "Estimated benefit (£ a year)": 50000,
            "Realised benefit (£ a year)": 20000,
        }
    ]


def _portfolio_report(user, filters=None):
    tables = {t["name"]: t["rows"] for t in export_json(user, filters, kind="portfolio")["tables"]}
    summary = {row["Figure"]: row["Value"] for row in tables["Summary"]}
    return summary, tables


@pytest.mark.django_db
def test_portfolio_summary_reads_the_pages_snapshot_and_says_when(
    portfolio, experiments, ana, lena, alice, django_assert_num_queries
):
    """The page's figures, as of the same refresh: a proposal submitted since is in
    neither until the next refresh. One query, whatever the size."""
    portfolio_figures.refresh()
    PortfolioSnapshot.objects.update(computed_at=dt.datetime(2026, 12, 7, 10, 42, tzinfo=dt.UTC))
    before = {who.email: portfolio_figures.portfolio(who, by_stage=True) for who in (ana, lena)}
    ProposalFactory.create(submitter=alice, title="Submitted after the refresh")

    for who in (ana, lena):
        page = portfolio_figures.current(who)
        with django_assert_num_queries(1):
            summary, tables = _portfolio_report(who)
        assert summary["Proposals submitted"] == page.total == before[who.email].total
        assert summary["Proposals decided"] == page.decided
        assert summary["Estimated benefit (£ a year)"] == page.estimated_benefit_gbp
        assert summary["Realised benefit (£ a year)"] == page.realised_benefit_gbp
        # The page's words for when: "Figures as of 10:42am on 7 December 2026".
        assert page.as_of == "Figures as of 10:42am on 7 December 2026"
        assert summary["Figures as of"] == "10:42am on 7 December 2026"
        assert [
            (row["Status"], row["Department"], row["Theme"], row["Proposals"])
            for row in tables["By stage, department and theme"]
        ] == [
            (dict(Status.choices)[status], department, theme or "No theme", n)
            for status, department, theme, n in before[who.email].by_stage
        ]
    # An analyst's one department is a scope the snapshots hold too.
    home, _ = _portfolio_report(ana, {"department": "home-office"})
    assert home["Proposals submitted"] == 1
    assert home["Figures as of"] == "10:42am on 7 December 2026"


@pytest.mark.django_db
def test_portfolio_summary_narrowed_by_status_or_theme_is_computed_now(
    portfolio, experiments, ana, alice
):
    """No snapshot counts a status's or a theme's proposals alone: those are computed
    from the rows, now, and say so."""
    portfolio_figures.refresh()
    PortfolioSnapshot.objects.update(computed_at=dt.datetime(2026, 12, 7, 10, 42, tzinfo=dt.UTC))
    ProposalFactory.create(submitter=alice, title="Submitted after the refresh")

    submitted, _ = _portfolio_report(ana, {"status": "submitted"})
    themed, stages = _portfolio_report(ana, {"theme": "ai"})

    assert submitted["Proposals submitted"] == 2  # amir-gov and the new one
    assert submitted["Figures as of"] != "10:42am on 7 December 2026"
    assert themed["Proposals submitted"] == 2  # amir-gov and bob-gov
    assert {row["Theme"] for row in stages["By stage, department and theme"]} >= {
        "Artificial intelligence"
    }


@pytest.mark.django_db
def test_median_days_to_decision_of_an_even_count_averages_the_middle_two(alice):
    now = timezone.now()
    for days in (2, 4, 6, 100):
        ProposalFactory.create(
            submitter=alice,
            status=Status.REJECTED,
            submitted_at=now - dt.timedelta(days=days),
            decided_at=now,
        )

    assert portfolio_figures.median_days(Proposal.objects.all()) == {None: 5.0}


@pytest.mark.django_db
def test_request_report_is_for_leads_and_analysts(alice, lena):
    with pytest.raises(ActionNotAllowed):
        services.report_request(user=alice, kind="proposals", format="csv", filters={})

    report = services.report_request(
        user=lena, kind="proposals", format="csv", filters={"status": "submitted", "junk": "x"}
    )

    assert (report.status, report.filters) == (ReportStatus.QUEUED, {"status": "submitted"})


@pytest.mark.django_db
def test_request_report_rejects_bad_choices_with_field_errors(lena):
    with pytest.raises(ValidationError) as error:
        services.report_request(
            user=lena, kind="secrets", format="xls", filters={"department": "nowhere"}
        )

    assert set(error.value.message_dict) == {"kind", "format", "department"}


@pytest.mark.django_db
def test_build_saves_the_file_and_tells_the_requester(portfolio, lena, media):
    report = Report.objects.create(requested_by=lena, kind="proposals", format="csv")

    assert reports.build(str(report.pk)) is True
    assert reports.build(str(report.pk)) is False  # a duplicate message does nothing

    report.refresh_from_db()
    assert (report.status, report.progress) == (ReportStatus.DONE, 100)
    assert report.row_count == proposals_visible_to(lena).count() == 4
    assert report.file.name.startswith("reports/proposals-")
    assert report.expires_at is not None
    assert report.expires_at > timezone.now() + dt.timedelta(days=6)
    with default_storage.open(report.file.name) as handle:
        assert handle.read().decode().count("\n") == 5
    [ready] = Notification.objects.filter(kind=NotificationKind.REPORT_READY)
    assert (ready.recipient, ready.url, ready.status) == (lena, "/reports/", DeliveryStatus.PENDING)


@pytest.mark.django_db
def test_build_records_progress_as_it_goes(alice, lena, media, monkeypatch):
    ProposalFactory.create_batch(25, submitter=alice)
    report = Report.objects.create(requested_by=lena, kind="proposals", format="json")
    seen = []
    original = reports.Progress.advance

    def watch(self, units, *, rows=0):
        original(self, units, rows=rows)
        seen.append(Report.objects.get(pk=report.pk).progress)

    monkeypatch.setattr(reports, "CHUNK_SIZE", 10)
    monkeypatch.setattr(reports.Progress, "advance", watch)
    monkeypatch.setattr(
        reports,
        "proposal_rows",
        lambda qs, viewer, progress=None, chunk_size=10, _f=reports.proposal_rows: _f(
            qs, viewer, progress=progress, chunk_size=10
        ),
    )

    reports.build(str(report.pk))

    assert seen == [40, 80, 99]
    report.refresh_from_db()
    assert (report.progress, report.row_count) == (100, 25)


@pytest.mark.django_db
def test_a_report_is_only_its_requesters(lena, ana, media):
    report = Report.objects.create(requested_by=lena, kind="proposals", format="csv")

    assert reports.report_for(lena, str(report.pk)) == report
    with pytest.raises(Http404):
        reports.report_for(ana, str(report.pk))
    with pytest.raises(Http404):
        reports.report_for(lena, "not-a-uuid")


@pytest.mark.django_db
def test_expire_removes_files_past_their_date(portfolio, lena, media):
    report = Report.objects.create(requested_by=lena, kind="proposals", format="csv")
    reports.build(str(report.pk))
    report.refresh_from_db()
    name = report.file.name

    kept = reports.expire(now=timezone.now())
    removed = reports.expire(now=timezone.now() + dt.timedelta(days=8))

    report.refresh_from_db()
    assert (kept, removed) == (0, 1)
    assert (report.status, report.file.name) == (ReportStatus.EXPIRED, "")
    assert not default_storage.exists(name)


@pytest.mark.django_db
def test_build_fails_cleanly_when_the_requester_lost_the_right(portfolio, lena, media):
    report = Report.objects.create(requested_by=lena, kind="proposals", format="csv")
    lena.role = "submitter"
    lena.save()

    assert reports.build(str(report.pk)) is False

    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert report.error == "The requester can no longer request reports"


@pytest.mark.django_db
def test_department_filter_unknown_is_a_validation_error(db):
    assert Department.objects.filter(slug="dfe").exists()
    with pytest.raises(ValidationError):
        reports.clean_filters({"status": "lost"})


@pytest.mark.django_db
def test_sweep_resends_a_lost_report_once_per_window(lena):
    report = Report.objects.create(requested_by=lena, kind="proposals", format="csv")
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))

    assert reports.sweep() == 1
    assert reports.sweep() == 0
