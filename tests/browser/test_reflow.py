"""Reflow (WCAG 1.4.10) in Chromium: at 320 CSS pixels wide no page scrolls sideways;
a wide table may scroll only inside its own labelled, focusable region."""

from __future__ import annotations

import pytest

from proposals.enums import DeliveryStatus, ReportStatus
from proposals.models import Report, WebhookDelivery, WebhookEndpoint
from tests.browser.conftest import sign_in
from tests.proposals.review_world import assess, in_review, submitted

pytestmark = pytest.mark.browser

PAGES = ["/portfolio/", "/review/panel/", "/account/webhooks/", "/review/", "/reports/"]


@pytest.fixture
def busy_department(alice, rita, lena):
    """Something on each page: a queue, a scored proposal, a webhook, a report."""
    submitted(alice)
    scored = in_review(alice, rita, [rita])
    assess(scored, rita, 4)
    endpoint = WebhookEndpoint.objects.create(
        department=lena.department,
        url="https://hooks.example/a/rather/long/receiver/address/in",
        secret="s",
        events=["proposal.submitted", "proposal.decided"],
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="proposal.submitted",
        payload={},
        status=DeliveryStatus.PENDING,
        attempts=1,
        last_error="Timed out",
    )
    Report.objects.create(
        requested_by=lena,
        kind="proposals",
        format="csv",
        status=ReportStatus.RUNNING,
        progress=40,
        filters={"status": "submitted", "search": "forms"},
    )


@pytest.mark.parametrize("path", PAGES)
def test_page_does_not_scroll_sideways_at_320_px(page, lena, busy_department, path):
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, "lena@dfe.example")
    page.goto(path)

    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320, f"{path} is {width}px wide at 320px"
    # Whatever is wider scrolls inside a region a keyboard can reach and a screen
    # reader can name (GOV.UK: a focusable, labelled scroll container).
    for region in page.locator(".app-table-scroll").all():
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("role") == "region"
        assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")
