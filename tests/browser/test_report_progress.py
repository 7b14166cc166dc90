"""In Chromium: the report's progress bar moves as the worker writes progress, with no
reload, then the finished report offers its download; and the page is accessible."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from proposals import reports
from proposals.enums import ReportStatus
from proposals.models import Report
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_progress_bar_moves_then_offers_the_download(page, lena, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = Report.objects.create(
        requested_by=lena, kind="proposals", format="csv", status=ReportStatus.RUNNING, progress=10
    )
    sign_in(page, "lena@dfe.example")
    page.goto("/reports/")
    bar = page.locator(f"#progress-{report.pk}")
    assert bar.get_attribute("value") == "10"
    assert_accessible(page)
    page.evaluate("() => { window.notReloaded = true }")

    Report.objects.filter(pk=report.pk).update(progress=55)

    page.wait_for_function(
        f"() => document.getElementById('progress-{report.pk}').value === 55", timeout=10_000
    )
    assert page.locator(".app-report-progress__text").inner_text() == "Building: 55%"
    assert page.evaluate("() => window.notReloaded") is True

    report.file.save("proposals.csv", ContentFile(b"Reference\r\nDFE-2026-0001\r\n"), save=False)
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.DONE, progress=100, row_count=1, file=report.file.name
    )

    download = page.get_by_role("link", name="Download")
    download.wait_for(timeout=10_000)
    assert download.get_attribute("href") == f"/reports/{report.pk}/download/"
    assert_accessible(page)


def test_finishing_updates_the_row_in_place_keeping_the_form_and_focus(
    page, lena, settings, tmp_path
):
    # WCAG 2.2.1: a report finishing must not reload the page, wipe a half-filled
    # request form or move the user's focus.
    settings.MEDIA_ROOT = tmp_path
    report = Report.objects.create(
        requested_by=lena, kind="proposals", format="csv", status=ReportStatus.RUNNING, progress=10
    )
    sign_in(page, "lena@dfe.example")
    page.goto("/reports/")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    page.evaluate("() => { window.notReloaded = true }")
    page.get_by_text("Only include some proposals").click()
    search = page.get_by_label("Words to search for")
    search.fill("half-typed words")
    search.focus()

    report.file.save("proposals.csv", ContentFile(b"Reference\r\nDFE-2026-0001\r\n"), save=False)
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.DONE, progress=100, row_count=1, file=report.file.name
    )

    page.get_by_role("link", name="Download").wait_for(timeout=10_000)
    assert page.evaluate("() => window.notReloaded") is True
    assert search.input_value() == "half-typed words"
    assert page.evaluate("() => document.activeElement.name") == "search"
    assert page.locator(f"#progress-{report.pk}").count() == 0


def test_a_report_that_fails_while_watched_offers_try_again_in_place(
    page, lena, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    report = Report.objects.create(
        requested_by=lena, kind="proposals", format="csv", status=ReportStatus.RUNNING, progress=10
    )
    sign_in(page, "lena@dfe.example")
    page.goto("/reports/")
    page.evaluate("() => { window.notReloaded = true }")

    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.FAILED, error=reports.GAVE_UP.format(attempts=3), attempts=3
    )

    retry = page.get_by_role("button", name="Try again")
    retry.wait_for(timeout=10_000)
    assert page.evaluate("() => window.notReloaded") is True
    retry.click()
    page.wait_for_url("**/reports/")
    report.refresh_from_db()
    assert report.status == ReportStatus.QUEUED


def test_a_failed_report_says_why_and_is_tried_again_from_the_page(page, lena, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    message = reports.GAVE_UP.format(attempts=3)
    report = Report.objects.create(
        requested_by=lena,
        kind="proposals",
        format="csv",
        status=ReportStatus.FAILED,
        error=message,
        attempts=3,
    )
    sign_in(page, "lena@dfe.example")
    page.goto("/reports/")
    assert message in page.locator("table").inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Try again").click()

    page.wait_for_url("**/reports/")
    assert "Your report is being built again." in page.locator("body").inner_text()
    report.refresh_from_db()
    assert (report.status, report.attempts, report.error) == (ReportStatus.QUEUED, 0, "")
    assert page.locator(f"#progress-{report.pk}").count() == 1
