"""The start page, the notices and the error pages, signed in and out."""

from __future__ import annotations

import re

import pytest
from django.template import Context
from django.test import Client

from proposals.templatetags.govuk import navigation_items
from tests.browser import test_reflow as reflow
from tests.pages import page_title, title_of

NOTICES = [
    ("/privacy/", "Privacy notice"),
    ("/accessibility/", "Accessibility statement"),
    ("/cookies/", "Cookies"),
]


@pytest.mark.django_db
def test_home_signed_out_is_the_start_page(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.templates[0].name == "start.html"
    assert title_of(response) == page_title("Propose an innovation")
    assert b'class="govuk-button govuk-button--start"' in response.content
    assert b'href="/accounts/login/"' in response.content


@pytest.mark.django_db
def test_home_signed_in_welcomes_the_user(client, alice):
    client.force_login(alice)

    response = client.get("/")

    assert response.status_code == 200
    assert response.templates[0].name == "home.html"
    assert "Welcome, Alice" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "title"), NOTICES)
def test_notice_pages_are_public(client, path, title):
    response = client.get(path)

    assert response.status_code == 200
    assert title_of(response) == page_title(title)


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "title"), NOTICES)
def test_notice_pages_signed_in_show_the_navigation(client, alice, path, title):
    client.force_login(alice)

    response = client.get(path)

    assert response.status_code == 200
    assert b'aria-label="Menu"' in response.content


@pytest.mark.django_db
def test_cookies_page_lists_the_essential_cookies(client):
    html = client.get("/cookies/").content.decode()

    assert '<td class="govuk-table__cell">sessionid</td>' in html
    assert '<td class="govuk-table__cell">csrftoken</td>' in html
    assert "30 minutes without activity" in html


MODEL_SECTIONS = (
    # The GOV.UK model accessibility statement's headings, in its order.
    "How accessible this service is",
    "Feedback and contact information",
    "Reporting accessibility problems with this service",
    "Enforcement procedure",
    "Technical information about this service’s accessibility",
    "Compliance status",
    "Non-accessible content",
    "Non-compliance with the accessibility regulations",
    "Disproportionate burden",
    "Content that’s not within the scope of the accessibility regulations",
    "What we’re doing to improve accessibility",
    "Preparation of this accessibility statement",
)
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE = rf"\d{{1,2}} (?:{MONTHS}) \d{{4}}"


def _section(html: str, heading: str) -> str:
    """The text from a heading to the next heading of any level."""
    start = html.index(f">{heading}</h")
    following = re.search(r"<h[1-6]", html[start:])
    return html[start : start + following.start()] if following else html[start:]


@pytest.mark.django_db
def test_accessibility_statement_follows_the_govuk_model_and_claims_only_what_holds(client):
    html = client.get("/accessibility/").content.decode()

    # The model's sections, each once and in order.
    positions = [html.index(f">{heading}</h") for heading in MODEL_SECTIONS]
    assert positions == sorted(positions)
    # Compliance status: honest, on automated tests alone it cannot be "fully".
    assert "partially compliant" in _section(html, "Compliance status")
    assert "fully compliant" not in html
    # Non-accessible content names what is still known, with its success criteria.
    known = _section(html, "Non-compliance with the accessibility regulations")
    assert "We do not know of any content that fails" in known
    # Preparation: when it was prepared, reviewed and tested, and how.
    preparation = _section(html, "Preparation of this accessibility statement")
    for said in ("This statement was prepared on", "It was last reviewed on"):
        assert re.search(f"{said} {DATE}", preparation), said
    method = html[html.index(">Preparation of this accessibility statement</h") :]
    assert re.search(f"This service was last tested on {DATE}", method)
    for how in ("axe-core", "WCAG 2.2 AA", "Nu HTML Checker", "Chromium", "keyboard"):
        assert how in method, how
    assert "320 and 375 pixels wide" in method and "JavaScript on and off" in method


def test_accessibility_statement_claims_are_the_ones_the_browser_tests_check(client, db):
    html = client.get("/accessibility/").content.decode()

    # 400% zoom of a 1,280 px window is 320 CSS px: the reflow test's narrowest width.
    assert "zoom in up to 400%" in html
    assert min(reflow.WIDTHS) == 320
    assert {"/accessibility/", "/api/docs/"} <= set(reflow.SIGNED_OUT.values())
    # axe runs on every page, so the statement knows of no failure (a page left out
    # would have to be listed as non-compliant).
    assert set() == reflow.AXE_KNOWN
    assert "We do not know of any" in _section(
        html, "Non-compliance with the accessibility regulations"
    )
    # Nothing it cannot back.
    assert "JAWS" not in html and "NVDA" not in html
    assert "change colours" not in html  # no test covers user style sheets
    # The API reference's nested controls and small targets are fixed (static/js/api-docs.js,
    # static/css/api-docs.css; tests/browser/test_api_docs.py runs axe's WCAG 2.2 AA set).
    assert "nested" not in html


@pytest.mark.django_db
def test_footer_links_to_the_notices_and_the_licence(client):
    html = client.get("/").content.decode()

    for href in ('href="/privacy/"', 'href="/accessibility/"', 'href="/cookies/"'):
        assert href in html
    assert "Open Government Licence v3.0" in html
    assert "mailto:feedback@innovation.example" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("submitter", ["Find proposals", "Propose", "Challenges", "Experiments", "Lessons"]),
        (
            "reviewer",
            ["Find proposals", "Propose", "Challenges", "Review", "Experiments", "Lessons"],
        ),
        (
            "lead",
            [
                "Find proposals",
                "Propose",
                "Challenges",
                "Review",
                "Portfolio",
                "Experiments",
                "Lessons",
                "Reports",
            ],
        ),
        (
            "analyst",
            ["Find proposals", "Challenges", "Portfolio", "Experiments", "Lessons", "Reports"],
        ),
    ],
)
def test_navigation_shows_the_links_of_the_role(client, alice, role, expected):
    alice.role = role
    alice.save(update_fields=["role"])
    client.force_login(alice)

    response = client.get("/privacy/")

    items = response.context["nav_items"]
    assert [item["text"] for item in items] == [*expected, "Your account"]
    assert b">Sign out</button>" in response.content


@pytest.mark.django_db
def test_navigation_marks_the_longest_matching_link_current(rf, alice):
    request = rf.get("/proposals/new/")
    request.user = alice

    items = navigation_items(Context({"request": request}))

    assert [item["text"] for item in items if item["active"]] == ["Propose"]


@pytest.mark.django_db
def test_unknown_page_is_a_govuk_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert title_of(response) == page_title("Page not found")
    assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_the_demo_with_debug_on_shows_the_services_own_404(client, settings, alice):
    settings.DEBUG = True
    client.force_login(alice)

    unknown = client.get("/no-such-page/")
    hidden = client.get("/proposals/DFE-2026-9999/")  # a view's Http404
    api = client.get("/api/v1/no-such-thing/")

    for response in (unknown, hidden):
        assert response.status_code == 404
        assert title_of(response) == page_title("Page not found")
        assert b"URLconf" not in response.content
    assert api.status_code == 404
    assert api["Content-Type"].startswith("application/json")


@pytest.mark.django_db
@pytest.mark.urls("tests.innovation.error_urls")
@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/forbidden/", 403, "You cannot do this"),
        ("/bad-request/", 400, "Sorry, there is a problem with your request"),
        ("/broken/", 500, "Sorry, there is a problem with the service"),
    ],
)
def test_error_pages_are_govuk_pages_without_a_stack_trace(path, status, title):
    client = Client(raise_request_exception=False)

    response = client.get(path)

    assert response.status_code == status
    assert title_of(response) == page_title(title)
    assert b"Traceback" not in response.content
    assert b"ZeroDivisionError" not in response.content


@pytest.mark.django_db
def test_post_without_csrf_token_is_a_govuk_403(alice):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "alice@dfe.example", "password": "x"})

    assert response.status_code == 403
    assert title_of(response) == page_title("Sorry, we could not save what you sent")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "signed_in", "queries"),
    [
        # Signed out: nothing but the (empty) session lookup.
        ("/", False, 0),
        ("/privacy/", False, 0),
        ("/accounts/login/", False, 0),
        # Signed in: the session, the user, and the session saved for the idle
        # clock (an UPDATE inside a savepoint: 3 statements).
        ("/privacy/", True, 5),
        # The account page also names the user's department; home also lists the
        # user's proposals and what waits for them (each two LIMITed walks: as
        # submitter, as co-author) and unread notifications.
        ("/", True, 12),
        ("/account/", True, 6),
    ],
)
def test_pages_make_a_fixed_number_of_queries(
    client, alice, django_assert_num_queries, path, signed_in, queries
):
    if signed_in:
        client.force_login(alice)

    with django_assert_num_queries(queries):
        response = client.get(path)

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/proposals/", "Find proposals"),
        ("/proposals/ABC-2026-0001/", "Find proposals"),
        ("/proposals/ABC-2026-0001/edit/summary/", "Propose"),
        ("/proposals/ABC-2026-0001/edit/attachments/", "Propose"),
        ("/proposals/ABC-2026-0001/check/", "Propose"),
        ("/proposals/ABC-2026-0001/submitted/", "Propose"),
        ("/proposals/ABC-2026-0001/triage/", "Review"),
        ("/proposals/ABC-2026-0001/assess/", "Review"),
        ("/proposals/ABC-2026-0001/decide/", "Review"),
        ("/proposals/ABC-2026-0001/feedback/", "Review"),
        ("/proposals/ABC-2026-0001/experiments/new/", "Experiments"),
        ("/review/panel/", "Review"),
    ],
)
def test_navigation_marks_the_section_a_page_belongs_to(rf, alice, path, current):
    alice.role = "lead"
    alice.save(update_fields=["role"])
    request = rf.get(path)
    request.user = alice

    items = navigation_items(Context({"request": request}))

    assert [item["text"] for item in items if item["active"]] == [current]
