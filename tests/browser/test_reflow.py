"""Reflow (WCAG 1.4.10) in Chromium: at 320 CSS pixels wide (what 400% zoom of a
1280 px window gives; 200% of 640) and at 375 (a common phone) no page of SPEC §4
scrolls sideways, with JavaScript on and off, filled with long titles, unbroken
words, addresses and email addresses. A wide table may scroll only inside its own
labelled, focusable region."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import ApiToken, User
from proposals import services
from proposals.enums import DeliveryStatus, ReportStatus
from proposals.models import (
    BenefitReview,
    Challenge,
    Comment,
    Experiment,
    Outcome,
    Proposal,
    Report,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.browser.conftest import PASSWORD, assert_accessible, sign_in
from tests.factories import UserFactory
from tests.proposals.review_world import (
    approved,
    assess,
    in_review,
    planned,
    submitted,
    with_outcome,
)

pytestmark = pytest.mark.browser

WIDTHS = (320, 375)
# Pages axe is not run on here. None: even Swagger UI's widget at /api/docs/ passes
# (static/js/api-docs.js, static/css/api-docs.css; test_api_docs.py drives its states).
AXE_KNOWN: set[str] = set()
# No spaces to break at: only overflow-wrap keeps words like these inside 320 px.
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis-resistant"
LONG_EMAIL = "maximilian.featherstonehaugh-cholmondeley@education.gov.example"
LONG_URL = "https://www.example.gov.uk/guidance/supplementary-information-request-forms-2026"
LONG_ANSWERS = {
    "title": f"Read {LONG_WORD} supplementary-information-request forms automatically",
    "summary": f"Optical character recognition for paper forms, as at {LONG_URL}",
    "problem": f"Caseworkers retype 40,000 {LONG_WORD} paper forms a year",
    "who_has_the_problem": f"Caseworkers in regional offices, contact {LONG_EMAIL}",
    "proposed_solution": f"Use {LONG_WORD} OCR to read forms into the case system",
    "expected_benefits": f"3,000 hours a year ({LONG_URL})",
}


@dataclass
class Long:
    """A department full of long things, one of each page's subjects."""

    writer: User
    draft: Proposal
    own_submitted: Proposal
    more_info: Proposal
    rejected: Proposal
    triage: Proposal
    review: Proposal
    approved: Proposal
    experimenting: Proposal
    running: Experiment
    finished: Experiment
    outcome: Outcome
    benefit_review: BenefitReview
    challenge: Challenge
    comment: Comment
    token: ApiToken


@pytest.fixture
def long(alice, rita, ravi, lena) -> Long:
    writer = UserFactory.create(
        email=LONG_EMAIL,
        full_name="Maximilian Featherstonehaugh-Cholmondeley-Wolstenholme",
        department=lena.department,
    )
    challenge = services.challenge_create(
        actor=lena,
        data={
            "title": f"How might we stop {LONG_WORD} retyping?",
            "question": f"Where do caseworkers retype {LONG_WORD} forms? See {LONG_URL}",
            "opens_on": dt.date.today() - dt.timedelta(days=1),
            "closes_on": dt.date.today() + dt.timedelta(days=30),
        },
    )
    draft = services.proposal_create_draft(
        author=lena, data={**LONG_ANSWERS, "cost_band": "10k_50k", "challenge": challenge}
    )
    own_submitted = submitted(lena, **LONG_ANSWERS)
    more_info = services.proposal_transition(
        proposal=submitted(lena, **LONG_ANSWERS),
        actor=rita,
        action="request_info",
        data={"message": f"Which {LONG_WORD} forms? Write to {LONG_EMAIL}"},
    )
    rejected = services.proposal_transition(
        proposal=submitted(lena, **LONG_ANSWERS),
        actor=rita,
        action="reject_at_triage",
        data={"rationale": f"Already done at {LONG_URL}"},
    )
    triage = submitted(writer, **LONG_ANSWERS)
    submitted(writer, **{**LONG_ANSWERS, "title": f"Another {LONG_WORD} idea"})
    review = in_review(writer, rita, [rita, lena], **LONG_ANSWERS)
    assess(review, rita, 4)
    approved_one = approved(writer, rita, lena, **LONG_ANSWERS)
    planned(approved_one, lena, title=f"{LONG_WORD} pilot")
    experimenting = approved(writer, rita, lena, **LONG_ANSWERS)
    finished = planned(experimenting, lena, title=f"Finished {LONG_WORD} pilot")
    outcome = with_outcome(finished, lena)
    running = planned(experimenting, lena, title=f"Second {LONG_WORD} pilot")
    services.experiment_start(experiment=running, actor=lena)
    services.support_add(proposal=experimenting, user=alice)
    services.comment_add(
        proposal=experimenting, author=writer, body=f"Ask {LONG_EMAIL} about {LONG_URL}"
    )
    comment = services.comment_add(
        proposal=experimenting, author=lena, body=f"{LONG_WORD} {LONG_WORD} {LONG_URL}"
    )
    token, _ = services.api_token_create(user=lena, name=f"{LONG_WORD} reporting token")
    endpoint = WebhookEndpoint.objects.create(
        department=lena.department,
        url=f"{LONG_URL}/hooks/receiver/in",
        secret="s",
        events=["proposal.submitted", "proposal.decided"],
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="proposal.submitted",
        payload={},
        status=DeliveryStatus.PENDING,
        attempts=1,
        last_error=f"Could not connect to {LONG_URL}: {LONG_WORD}",
    )
    Report.objects.create(
        requested_by=lena,
        kind="proposals",
        format="csv",
        status=ReportStatus.RUNNING,
        progress=40,
        filters={"status": "submitted", "search": LONG_WORD},
    )
    for proposal in (own_submitted, triage, review, approved_one, experimenting):
        proposal.refresh_from_db()
    return Long(
        writer=writer,
        draft=draft,
        own_submitted=own_submitted,
        more_info=more_info,
        rejected=rejected,
        triage=triage,
        review=review,
        approved=approved_one,
        experimenting=experimenting,
        running=running,
        finished=finished,
        outcome=outcome,
        benefit_review=BenefitReview.objects.filter(outcome=outcome).earliest("due_on"),
        challenge=challenge,
        comment=comment,
        token=token,
    )


def _ref(proposal: Proposal, rest: str = "") -> str:
    return f"/proposals/{proposal.reference}/{rest}"


# Every page of SPEC §4 and every other page in the URL confs a person reaches.
# Signed out, nothing of the department shows: the paths alone.
SIGNED_OUT: dict[str, str] = {
    "start": "/",
    "sign in": "/accounts/login/",
    "password reset": "/accounts/password-reset/",
    "password reset sent": "/accounts/password-reset/sent/",
    "password reset complete": "/accounts/password-reset/complete/",
    "privacy": "/privacy/",
    "accessibility": "/accessibility/",
    "cookies": "/cookies/",
    "page not found": "/no-such-page/",
    "api docs": "/api/docs/",
    "data dictionary": "/api/data-dictionary/",
}
SIGNED_IN: dict[str, Callable[[Long], str]] = {
    "home": lambda w: "/",
    "your account": lambda w: "/account/",
    "find proposals": lambda w: f"/proposals/?search={LONG_WORD[:20]}",
    "propose": lambda w: "/proposals/new/",
    "question: about": lambda w: _ref(w.draft, "edit/about/"),
    "question: problem": lambda w: _ref(w.draft, "edit/problem/"),
    "question: solution": lambda w: _ref(w.draft, "edit/solution/"),
    "question: costs": lambda w: _ref(w.draft, "edit/costs/"),
    "question: details": lambda w: _ref(w.draft, "edit/details/"),
    "attachments": lambda w: _ref(w.draft, "edit/attachments/"),
    "check your answers": lambda w: _ref(w.draft, "check/"),
    "delete draft": lambda w: _ref(w.draft, "delete/"),
    "submitted": lambda w: _ref(w.own_submitted, "submitted/"),
    "withdraw": lambda w: _ref(w.own_submitted, "withdraw/"),
    "resubmit": lambda w: _ref(w.more_info, "resubmit/"),
    "rejected proposal": lambda w: _ref(w.rejected),
    "proposal with experiments and outcome": lambda w: _ref(w.experimenting),
    "proposal in review": lambda w: _ref(w.review),
    "edit comment": lambda w: _ref(w.experimenting, f"comments/{w.comment.pk}/edit/"),
    "review dashboard": lambda w: "/review/",
    "triage": lambda w: _ref(w.triage, "triage/"),
    "assess": lambda w: _ref(w.review, "assess/"),
    "decide": lambda w: _ref(w.review, "decide/"),
    "merge": lambda w: _ref(w.triage, "merge/"),
    "release feedback": lambda w: _ref(w.approved, "feedback/"),
    "close proposal": lambda w: _ref(w.experimenting, "close/"),
    "panel sheet": lambda w: "/review/panel/",
    "portfolio": lambda w: "/portfolio/",
    "challenges": lambda w: "/challenges/",
    "challenge": lambda w: f"/challenges/{w.challenge.slug}/",
    "new challenge": lambda w: "/challenges/new/",
    "close challenge": lambda w: f"/challenges/{w.challenge.slug}/close/",
    "experiments": lambda w: "/experiments/",
    "plan experiment": lambda w: _ref(w.approved, "experiments/new/"),
    "experiment running": lambda w: f"/experiments/{w.running.pk}/",
    "experiment finished": lambda w: f"/experiments/{w.finished.pk}/",
    "evaluation plan": lambda w: f"/experiments/{w.running.pk}/evaluation/",
    "benefit review": lambda w: f"/experiments/{w.finished.pk}/benefits/{w.benefit_review.pk}/",
    "stop experiment": lambda w: f"/experiments/{w.running.pk}/stop/",
    "record outcome": lambda w: f"/experiments/{w.running.pk}/outcome/",
    "lessons": lambda w: "/lessons/",
    "lesson": lambda w: f"/lessons/{w.outcome.pk}/",
    "reports": lambda w: "/reports/",
    "api tokens": lambda w: "/account/tokens/",
    "new api token": lambda w: "/account/tokens/new/",
    "revoke api token": lambda w: f"/account/tokens/{w.token.pk}/revoke/",
    "notifications": lambda w: "/account/notifications/",
    "webhooks": lambda w: "/account/webhooks/",
    "department settings": lambda w: "/department/settings/",
    "move a person": lambda w: "/department/settings/move/",
}


@pytest.fixture
def contexts(browser: Any, live_server: Any) -> Iterator[dict[str, Any]]:
    """One page with JavaScript and one without, sharing nothing but what we copy."""
    made = {
        # bypass_csp: axe is injected as a script (see conftest's `page`).
        "JavaScript on": browser.new_context(bypass_csp=True, base_url=live_server.url),
        "JavaScript off": browser.new_context(base_url=live_server.url, java_script_enabled=False),
    }
    pages = {}
    for name, context in made.items():
        context.set_default_timeout(10_000)
        pages[name] = context.new_page()
    yield pages
    for context in made.values():
        context.close()


def _overflowing(page: Any) -> list[str]:
    """What sticks out past the viewport, outside any scroll region: the culprits
    (elements, and the elements whose own text runs past the edge)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
            (typeof el.className === 'string' && el.className.trim()
              ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
          const out = new Set();
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ALL);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
            if (!(el instanceof Element) || el.closest('.app-table-scroll')) continue;
            let box;
            if (node.nodeType === Node.TEXT_NODE) {
              const range = document.createRange();
              range.selectNodeContents(node);
              box = range.getBoundingClientRect();
            } else if (node.nodeType === Node.ELEMENT_NODE) {
              box = node.getBoundingClientRect();
            } else continue;
            if (box.width && box.right > width + 0.5) {
              const what = node.nodeType === Node.TEXT_NODE
                ? `text in ${describe(el)} "${node.textContent.trim().slice(0, 30)}"`
                : describe(el);
              out.add(`${what} (right edge ${Math.round(box.right)})`);
            }
          }
          return [...out].slice(0, 10);
        }"""
    )


def _assert_reflows(pages: dict[str, Any], path: str, status: int = 200) -> None:
    for javascript, page in pages.items():
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 640})
            response = page.goto(path)
            assert response.status == status, f"{path} answered {response.status}"
            # GOV.UK Frontend's inline script marks the body of our layout's pages:
            # proof of which case this is (Swagger UI's page has its own layout).
            marked = page.evaluate(
                """() => document.body.classList.contains('govuk-template__body')
                    ? document.body.classList.contains('js-enabled') : null"""
            )
            assert marked in (None, javascript == "JavaScript on")
            page_width = page.evaluate("() => document.documentElement.scrollWidth")
            assert page_width <= width, (
                f"{path} is {page_width}px wide at {width}px with {javascript}: "
                f"{_overflowing(page)}"
            )
            if javascript == "JavaScript on" and width == WIDTHS[0] and path not in AXE_KNOWN:
                # axe on every page, narrow: the regions added for reflow must pass too.
                assert_accessible(page)
            # Whatever is wider scrolls inside a region a keyboard can reach and a
            # screen reader can name (GOV.UK: a focusable, labelled scroll container).
            for region in page.locator(".app-table-scroll").all():
                assert region.get_attribute("tabindex") == "0"
                assert region.get_attribute("role") == "region"
                assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")


def _sign_in_both(pages: dict[str, Any], email: str) -> None:
    sign_in(pages["JavaScript on"], email, PASSWORD)
    pages["JavaScript off"].context.add_cookies(pages["JavaScript on"].context.cookies())


@pytest.mark.parametrize("name", SIGNED_OUT)
def test_signed_out_page_reflows_at_320_and_375_px(contexts, name):
    _assert_reflows(contexts, SIGNED_OUT[name], status=404 if name == "page not found" else 200)


def test_choose_a_new_password_page_reflows_at_320_and_375_px(contexts, long):
    # The link in the reset email: Django swaps the token for a session and redirects.
    uid = urlsafe_base64_encode(force_bytes(long.writer.pk))
    token = default_token_generator.make_token(long.writer)

    _assert_reflows(contexts, f"/accounts/password-reset/{uid}/{token}/")
    assert contexts["JavaScript off"].get_by_label("New password", exact=True).is_visible()


@pytest.mark.parametrize("name", SIGNED_IN)
def test_signed_in_page_reflows_at_320_and_375_px(contexts, lena, long, name):
    _sign_in_both(contexts, lena.email)

    _assert_reflows(contexts, SIGNED_IN[name](long))


def test_new_token_page_reflows_at_320_and_375_px(contexts, lena, long):
    _sign_in_both(contexts, lena.email)
    for javascript, page in contexts.items():
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 640})
            page.goto("/account/tokens/new/")
            page.get_by_label("Name").fill(f"{LONG_WORD} token")
            with page.expect_navigation():
                page.get_by_role("button", name="Create token").click()

            assert page.url.endswith("/account/tokens/created/")
            page_width = page.evaluate("() => document.documentElement.scrollWidth")
            assert page_width <= width, f"{page_width}px at {width}px with {javascript}"


def test_forms_in_their_error_state_reflow_at_320_and_375_px(contexts, lena, long):
    _sign_in_both(contexts, lena.email)
    for javascript, page in contexts.items():
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 640})
            page.goto(_ref(long.draft, "edit/about/"))
            page.get_by_label("Title").fill("")
            page.get_by_label("Summary").fill("")
            with page.expect_navigation():
                page.get_by_role("button", name="Continue").click()

            assert page.locator(".govuk-error-summary").is_visible()
            page_width = page.evaluate("() => document.documentElement.scrollWidth")
            assert page_width <= width, (
                f"{page_width}px at {width}px with {javascript}: {_overflowing(page)}"
            )


def test_a_wide_table_scrolls_in_its_region_by_keyboard(contexts, lena, long):
    # The statement says so: Tab reaches the region, the arrow keys scroll it.
    _sign_in_both(contexts, lena.email)
    for page in contexts.values():
        page.set_viewport_size({"width": 320, "height": 640})
        page.goto("/account/tokens/")
        region = page.get_by_role("region", name="Your tokens")
        assert region.evaluate("el => el.scrollWidth > el.clientWidth")
        for _ in range(60):
            page.keyboard.press("Tab")
            if region.evaluate("el => el === document.activeElement"):
                break
        else:
            pytest.fail("Tab never reached the table's region")

        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)  # a smooth scroll takes a moment

        assert region.evaluate("el => el.scrollLeft") > 0
