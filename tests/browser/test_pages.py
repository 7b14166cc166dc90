"""The pages every visitor meets, in a real browser, with axe on each."""

from __future__ import annotations

import re

import pytest

from proposals.enums import AttemptOutcome, DeliveryStatus
from proposals.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.browser.conftest import assert_accessible, page_title, sign_in

pytestmark = pytest.mark.browser


def test_start_page_is_accessible_and_starts_sign_in(page):
    page.goto("/")

    assert page.title() == page_title("Propose an innovation")
    assert_accessible(page)
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url(re.compile(r"/accounts/login/$"))


def test_sign_in_wrong_password_shows_error_summary_then_succeeds(page, alice):
    page.goto("/accounts/login/")
    assert_accessible(page)

    page.get_by_label("Email address").fill("alice@dfe.example")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()

    summary = page.locator(".govuk-error-summary")
    summary.wait_for()  # the answer to the post, not the page it left
    assert page.title() == page_title("Sign in", error=True)
    assert summary.get_by_role("link").all_inner_texts() == [
        "Enter a correct email address and password"
    ]
    # GOV.UK Frontend's JS focuses the summary; its link leads to the field.
    summary.get_by_role("link").click()
    assert page.evaluate("() => document.activeElement.id") == "id_username"
    assert_accessible(page)

    sign_in(page, "alice@dfe.example")
    assert page.title() == page_title("Home")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Alice"
    assert_accessible(page)


def test_signed_in_navigation_and_sign_out_are_accessible(page, lena):
    sign_in(page, "lena@dfe.example")
    nav = page.get_by_role("navigation", name="Menu")

    assert nav.get_by_role("link").all_inner_texts() == [
        "Find proposals",
        "Propose",
        "Challenges",
        "Review",
        "Portfolio",
        "Experiments",
        "Lessons",
        "Reports",
        "Your account",
    ]
    page.goto("/account/")
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_text("You have signed out").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/privacy/", "Privacy notice"),
        ("/accessibility/", "Accessibility statement for Propose an innovation"),
        ("/cookies/", "Cookies"),
        ("/api/data-dictionary/", "Data dictionary"),
        ("/accounts/password-reset/", "Reset your password"),
        ("/no-such-page/", "Page not found"),
    ],
)
def test_notice_and_error_pages_are_accessible(page, path, heading):
    page.goto(path)

    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert_accessible(page)


def test_govuk_frontend_initialises_under_the_strict_csp(strict_page, alice):
    console_errors: list[str] = []
    strict_page.on(
        "console", lambda m: console_errors.append(m.text) if m.type == "error" else None
    )
    strict_page.on("pageerror", lambda error: console_errors.append(str(error)))

    sign_in(strict_page, "alice@dfe.example")
    strict_page.goto("/account/")

    body_classes = strict_page.evaluate("() => document.body.className").split()
    assert "js-enabled" in body_classes
    assert "govuk-frontend-supported" in body_classes
    # initAll() ran: the service navigation's component marked itself initialised.
    assert (
        strict_page.locator("[data-module='govuk-service-navigation']").get_attribute(
            "data-govuk-service-navigation-init"
        )
        == ""
    )
    assert console_errors == []


def test_timeout_warning_offers_to_stay_signed_in(page, alice, settings):
    # 122 seconds: the warning (2 minutes before the end) opens 2 seconds after load.
    settings.SESSION_IDLE_TIMEOUT = 122
    sign_in(page, "alice@dfe.example")
    dialog = page.get_by_role(
        "dialog", name="You\N{RIGHT SINGLE QUOTATION MARK}re about to be signed out"
    )

    dialog.wait_for(state="visible", timeout=8_000)
    assert page.evaluate("() => document.activeElement.id") == "app-timeout-heading"
    assert_accessible(page)
    with page.expect_response(lambda r: r.url.endswith("/accounts/keep-alive/")) as ping:
        dialog.get_by_role("button", name="Stay signed in").click()

    assert ping.value.status == 200
    assert ping.value.json() == {"expires_in": 122}
    assert not dialog.is_visible()


def test_lockout_page_is_accessible(page, alice):
    page.goto("/accounts/login/")
    for _ in range(5):
        page.get_by_label("Email address").fill("alice@dfe.example")
        page.get_by_label("Password", exact=True).fill("not the password")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        if page.title() != page_title("Sign in", error=True):
            break

    assert page.title() == page_title("You cannot sign in at the moment")
    assert_accessible(page)


def test_webhooks_page_with_every_attempt_is_accessible(page, lena):
    endpoint = WebhookEndpoint.objects.create(
        department=lena.department, url="https://hooks.example/in", secret="s", events=[]
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="proposal.submitted",
        payload={},
        status=DeliveryStatus.PENDING,
        attempts=2,
        last_error="Timed out",
    )
    for number, error in ((1, "Could not connect"), (2, "Timed out")):
        WebhookAttempt.objects.create(
            delivery=delivery, number=number, outcome=AttemptOutcome.FAILED, error=error
        )
    sign_in(page, "lena@dfe.example")
    page.goto("/account/webhooks/")

    page.get_by_text("Every attempt").click()

    tries = page.locator(".govuk-details__text li").all_inner_texts()
    assert [t.split(": ", 1)[1] for t in tries] == ["Could not connect", "Timed out"]
    assert_accessible(page)
