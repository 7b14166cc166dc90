"""Every page of SPEC §4 is valid HTML: the Nu HTML Checker (vnu-jar from npm, run
with the installed Java) finds no errors on any of them.

Each page is rendered by the test client as the person who sees the most on it,
with data on it, and forms are also rendered in their error state (an error
summary and error messages are markup too). The checker starts once, over every
page written to a folder: a Java start per page would take minutes.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import TokenScope, User
from proposals import services
from proposals.enums import DeliveryStatus, ReportStatus
from proposals.models import BenefitReview, Challenge, Report, WebhookDelivery
from tests.conftest import skip_or_fail
from tests.factories import ProposalFactory
from tests.proposals import review_world as rw
from tests.proposals.pages import PNG, draft

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_STATUS = {
    "not-found": 404,
    "bad-request": 400,
    "server-error": 500,
    "forbidden": 403,
    "conflict": 409,
    "locked-out": 429,
    "too-big": 413,
    "csrf-failure": 403,
}
MEDIA_TYPES = {"html": "text/html", "svg": "image/svg+xml"}
ERROR_STATES = ("-empty", "-bad", "-bad-address", "-wrong-password", "-incomplete")


def checker_command() -> list[str]:
    """`java -jar <vnu.jar>`: the jar's path as the npm package gives it (its main
    export), falling back to the package's layout when Node is not on the PATH."""
    java = shutil.which("java")
    if java is None:
        skip_or_fail("needs Java 11+ for the Nu HTML Checker (Debian: default-jre-headless)")
    jar = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    node = shutil.which("node")
    if node is not None:
        found = subprocess.run(
            [node, "-e", "process.stdout.write(String(require('vnu-jar')))"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if found.returncode == 0 and found.stdout:
            jar = Path(found.stdout)
    if not jar.exists():
        skip_or_fail(f"needs the Nu HTML Checker: run `npm ci` ({jar} is missing)")
    return [str(java), "-jar", str(jar)]


@pytest.fixture
def full_world(settings, tmp_path, alice, amir, rita, ravi, lena, ana) -> dict[str, Any]:
    """Something on every page: proposals in each state, comments and support, an
    assessment, experiments with an outcome, a challenge, a token, a webhook with a
    delivery, reports running and failed, notifications."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    world = rw.build_world(alice=alice, rita=rita, ravi=ravi, lena=lena)
    rw.assess(world.in_review, ravi, 4)
    comment = services.comment_add(
        proposal=world.in_review, author=rita, body="Could it read handwriting?"
    )
    services.support_add(proposal=world.in_review, user=amir)
    today = timezone.localdate()
    challenge = Challenge.objects.create(
        slug="less-marking",
        title="Less marking",
        question="How could teachers spend less time marking?",
        department=lena.department,
        opens_on=today - dt.timedelta(days=10),
        closes_on=today + dt.timedelta(days=30),
        created_by=lena,
    )
    rw.submitted(alice, title="Marking by machine", challenge=challenge)
    token, _ = services.api_token_create(user=lena, name="Dashboard", scope=TokenScope.READ)
    more_info = rw.submitted(alice, title="Needs more")
    services.proposal_transition(
        proposal=more_info, actor=rita, action="request_info", data={"message": "How many forms?"}
    )
    # More than a page of results, so that the pagination is on the page.
    ProposalFactory.create_batch(21, submitter=amir, title="Forms by the box")
    endpoint, _ = services.webhook_register(
        actor=lena, url="https://hooks.example/in", events=["proposal.submitted"]
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="proposal.submitted",
        payload={},
        status=DeliveryStatus.FAILED,
        attempts=3,
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
    Report.objects.create(
        requested_by=lena,
        kind="portfolio",
        format="ods",
        status=ReportStatus.FAILED,
        progress=10,
        filters={},
    )
    a_draft = draft(alice, title="Half written", problem="", expected_benefits="")
    complete = draft(alice, title="Ready to send")
    services.attachment_add(
        proposal=a_draft,
        actor=alice,
        upload=SimpleUploadedFile("diagram.png", PNG, content_type="image/png"),
    )
    return {
        "world": world,
        "challenge": challenge,
        "draft": a_draft,
        "complete": complete,
        "comment": comment,
        "token": token,
        "more_info": more_info,
    }


def _pages(
    client: Client, settings: Any, people: dict[str, User], data: dict[str, Any]
) -> dict[str, Callable[[], Any]]:
    """Page name → how to get it (a response). Names become file names; a name
    ending in ERROR_STATES is a form in its error state."""
    world = data["world"]
    submitted = world.submitted.reference
    in_review = world.in_review.reference
    approved = world.approved.reference
    experimenting = world.experimenting.reference
    a_draft = data["draft"].reference

    def get(who: str | None, path: str) -> Callable[[], Any]:
        def fetch() -> Any:
            client.logout()
            if who is not None:
                client.force_login(people[who])
            return client.get(path)

        return fetch

    def post(who: str | None, path: str, form: dict[str, Any]) -> Callable[[], Any]:
        def fetch() -> Any:
            client.logout()
            if who is not None:
                client.force_login(people[who])
            return client.post(path, form)

        return fetch

    def locked_out() -> Any:
        client.logout()
        wrong = {"username": "rita@dfe.example", "password": "wrong"}
        for _ in range(settings.SIGN_IN_ACCOUNT_LIMIT):
            client.post("/accounts/login/", wrong)
        return client.post("/accounts/login/", wrong)

    def too_big() -> Any:
        client.logout()
        client.force_login(people["alice"])
        limit = settings.REQUEST_BODY_MAX_BYTES
        settings.REQUEST_BODY_MAX_BYTES = 10
        try:
            return client.post(f"/proposals/{a_draft}/edit/about/", {"title": "x" * 20})
        finally:
            settings.REQUEST_BODY_MAX_BYTES = limit

    def csrf_failure() -> Any:
        strict = Client(enforce_csrf_checks=True)
        return strict.post("/accounts/login/", {"username": "lena@dfe.example"})

    def token_created() -> Any:
        client.logout()
        client.force_login(people["alice"])
        form = {"name": "Spreadsheet", "scope": "read", "days": "30"}
        return client.post("/account/tokens/new/", form, follow=True)

    step = f"/proposals/{a_draft}/edit"
    review = BenefitReview.objects.filter(outcome=world.outcome).order_by("due_on").first()
    assert review is not None, "recording an outcome schedules its benefit reviews"
    return {
        # Signed out
        "start": get(None, "/"),
        "login": get(None, "/accounts/login/"),
        "login-wrong-password": post(
            None, "/accounts/login/", {"username": "lena@dfe.example", "password": "wrong"}
        ),
        "login-empty": post(None, "/accounts/login/", {"username": "", "password": ""}),
        "login-bad": post(None, "/accounts/login/", {"username": "lena at dfe", "password": "x"}),
        "password-reset": get(None, "/accounts/password-reset/"),
        "password-reset-sent": get(None, "/accounts/password-reset/sent/"),
        "privacy": get(None, "/privacy/"),
        "accessibility": get(None, "/accessibility/"),
        "cookies": get(None, "/cookies/"),
        "not-found": get(None, "/no-such-page/"),
        "api-docs": get(None, "/api/docs/"),
        "api-data-dictionary": get(None, "/api/data-dictionary/"),
        "bad-request": get(None, "/bad-request/"),
        "server-error": get(None, "/broken/"),
        "forbidden": get("alice", "/review/panel/"),
        "conflict": get("alice", f"/proposals/{submitted}/delete/"),
        "locked-out": locked_out,
        "too-big": too_big,
        "csrf-failure": csrf_failure,
        "password-reset-complete": get(None, "/accounts/password-reset/complete/"),
        "password-reset-bad-link": get(None, "/accounts/password-reset/MQ/bad-token/"),
        # Home and finding
        "home-submitter": get("alice", "/"),
        "home-lead": get("lena", "/"),
        "account": get("lena", "/account/"),
        "find": get("lena", "/proposals/"),
        "find-searched": get("lena", "/proposals/?search=forms&status=submitted"),
        "find-analyst": get("ana", "/proposals/"),
        "find-page-2": get("lena", "/proposals/?page=2"),
        # Proposing: question pages, their errors, attachments, check answers, confirmation
        "new": get("alice", "/proposals/new/"),
        "new-empty": post("alice", "/proposals/new/", {"title": "", "action": "continue"}),
        "edit-about": get("alice", f"{step}/about/"),
        "edit-problem": get("alice", f"{step}/problem/"),
        "edit-problem-empty": post(
            "alice", f"{step}/problem/", {"problem": "", "action": "continue"}
        ),
        "edit-solution": get("alice", f"{step}/solution/"),
        "edit-solution-empty": post(
            "alice", f"{step}/solution/", {"proposed_solution": "", "action": "continue"}
        ),
        "edit-costs": get("alice", f"{step}/costs/"),
        "edit-costs-bad": post(
            "alice",
            f"{step}/costs/",
            {"cost_band": "", "estimated_benefit_gbp": "lots", "action": "continue"},
        ),
        "edit-details": get("alice", f"{step}/details/"),
        "edit-details-bad": post(
            "alice", f"{step}/details/", {"visibility": "", "action": "continue"}
        ),
        "attachments": get("alice", f"/proposals/{a_draft}/edit/attachments/"),
        "check-answers-incomplete": post("alice", f"/proposals/{a_draft}/check/", {}),
        "check-answers": get("alice", f"/proposals/{data['complete'].reference}/check/"),
        "delete-draft": get("alice", f"/proposals/{a_draft}/delete/"),
        "submitted": get("alice", f"/proposals/{submitted}/submitted/"),
        "withdraw": get("alice", f"/proposals/{submitted}/withdraw/"),
        "resubmit": get("alice", f"/proposals/{data['more_info'].reference}/resubmit/"),
        "proposal-more-info": get("alice", f"/proposals/{data['more_info'].reference}/"),
        # The proposal
        "proposal-draft": get("alice", f"/proposals/{a_draft}/"),
        "proposal-submitted": get("rita", f"/proposals/{submitted}/"),
        "proposal-in-review": get("lena", f"/proposals/{in_review}/"),
        "proposal-approved": get("lena", f"/proposals/{approved}/"),
        "proposal-experimenting": get("lena", f"/proposals/{experimenting}/"),
        "proposal-by-submitter": get("alice", f"/proposals/{in_review}/"),
        "comment-empty": post("rita", f"/proposals/{in_review}/comments/", {"body": ""}),
        "comment-edit": get("rita", f"/proposals/{in_review}/comments/{data['comment'].pk}/edit/"),
        # Review
        "review": get("lena", "/review/"),
        "review-reviewer": get("rita", "/review/"),
        "review-panel": get("lena", "/review/panel/"),
        "triage": get("rita", f"/proposals/{submitted}/triage/"),
        "triage-empty": post("rita", f"/proposals/{submitted}/triage/", {"action": "accept"}),
        "assess": get("ravi", f"/proposals/{world.in_review.reference}/assess/"),
        "decide": get("lena", f"/proposals/{in_review}/decide/"),
        "decide-empty": post("lena", f"/proposals/{in_review}/decide/", {"decision": ""}),
        "merge": get("lena", f"/proposals/{submitted}/merge/"),
        "close": get("lena", f"/proposals/{submitted}/close/"),
        "feedback": get("lena", f"/proposals/{approved}/feedback/"),
        # Portfolio, challenges, experiments, lessons
        "portfolio": get("lena", "/portfolio/"),
        "portfolio-analyst": get("ana", "/portfolio/"),
        **{
            f"chart-{chart}": get("lena", f"/portfolio/charts/{chart}.svg")
            for chart in ("funnel", "departments", "themes", "results", "benefit")
        },
        "challenges": get("lena", "/challenges/"),
        "challenge": get("lena", f"/challenges/{data['challenge'].slug}/"),
        "challenge-close": get("lena", f"/challenges/{data['challenge'].slug}/close/"),
        "challenge-new": get("lena", "/challenges/new/"),
        "challenge-new-empty": post("lena", "/challenges/new/", {"title": ""}),
        "experiments": get("lena", "/experiments/"),
        "experiment-planned": get("lena", f"/experiments/{world.planned.pk}/"),
        "experiment-running": get("lena", f"/experiments/{world.running.pk}/"),
        "experiment-done": get("lena", f"/experiments/{world.outcome.experiment_id}/"),
        "experiment-plan": get("lena", f"/proposals/{approved}/experiments/new/"),
        "experiment-plan-bad": post(
            "lena",
            f"/proposals/{approved}/experiments/new/",
            {"title": "Pilot", "budget_gbp": "lots", "starts_on-day": "31", "starts_on-month": "2"},
        ),
        "experiment-plan-empty": post(
            "lena", f"/proposals/{approved}/experiments/new/", {"title": ""}
        ),
        "evaluation": get("lena", f"/experiments/{world.planned.pk}/evaluation/"),
        "evaluation-empty": post(
            "lena", f"/experiments/{world.planned.pk}/evaluation/", {"evaluation_types": ""}
        ),
        "outcome": get("lena", f"/experiments/{world.running.pk}/outcome/"),
        "outcome-empty": post("lena", f"/experiments/{world.running.pk}/outcome/", {"result": ""}),
        "stop": get("lena", f"/experiments/{world.running.pk}/stop/"),
        "benefit-review": get(
            "lena", f"/experiments/{review.outcome.experiment_id}/benefits/{review.pk}/"
        ),
        "benefit-review-bad": post(
            "lena",
            f"/experiments/{review.outcome.experiment_id}/benefits/{review.pk}/",
            {"realised_benefit_gbp": "lots"},
        ),
        "lessons": get("ana", "/lessons/"),
        "lessons-searched": get("ana", "/lessons/?search=handwriting"),
        "lesson": get("lena", f"/lessons/{world.outcome.pk}/"),
        # Reports and the account pages
        "reports": get("lena", "/reports/"),
        "reports-empty": post("lena", "/reports/", {"kind": ""}),
        "tokens": get("lena", "/account/tokens/"),
        "token-revoke": get("lena", f"/account/tokens/{data['token'].pk}/revoke/"),
        "token-created": token_created,
        "token-new": get("lena", "/account/tokens/new/"),
        "token-new-bad": post(
            "lena", "/account/tokens/new/", {"name": "", "scope": "admin", "days": "999"}
        ),
        "notifications": get("rita", "/account/notifications/"),
        "webhooks": get("lena", "/account/webhooks/"),
        "webhooks-bad": post("lena", "/account/webhooks/", {"url": "http://x", "events": []}),
        "webhooks-bad-address": post(
            "lena", "/account/webhooks/", {"url": "hooks dot example", "events": ["x"]}
        ),
        "department-settings": get("lena", "/department/settings/"),
        "move-person": get("lena", "/department/settings/move/"),
        # Last, as it changes what the pages above show: a success banner.
        "proposal-with-banner": lambda: client.post(
            f"/proposals/{in_review}/support/", follow=True
        ),
    }


def _vnu_errors(command: list[str], folder: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [
            *command,
            *("--format", "json", "--errors-only", "--exit-zero-always", "--also-check-svg"),
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # The JSON report goes to stderr; anything unreadable is itself a failure.
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stderr)["messages"]


def _listing(messages: list[dict[str, Any]]) -> list[str]:
    """The checker's errors as "page line N: message" over the extract."""
    return [
        f"{Path(unquote(urlparse(m.get('url', '')).path)).name} line {m.get('lastLine')}: "
        f"{m['message']}\n    {m.get('extract', '').strip()}"
        for m in messages
        if m.get("type") == "error" or m.get("subType") == "fatal"
    ]


def test_the_checker_reports_each_error_with_its_page_and_extract(tmp_path):
    """The harness itself: an invalid page and an invalid chart are reported, so
    an empty listing below means valid pages, not a checker that saw nothing."""
    command = checker_command()
    (tmp_path / "page.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>T</title></head>'
        '<body><p id="x">One</p><p id="x">Two</p></body></html>'
    )
    (tmp_path / "chart.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1" colour="red"/></svg>'
    )

    found = _listing(_vnu_errors(command, tmp_path))

    assert any(line.startswith("page.html line 1: Duplicate ID “x”.") for line in found), found
    assert any(line.startswith("chart.svg line 1:") and "colour" in line for line in found), found


def test_every_page_is_valid_html(
    settings, tmp_path, full_world, alice, amir, rita, ravi, lena, ana
):
    command = checker_command()
    # The service's URLs plus views that fail, for the 400 and 500 pages.
    settings.ROOT_URLCONF = "tests.innovation.error_urls"
    people = {u.email.split("@")[0]: u for u in (alice, amir, rita, ravi, lena, ana)}
    client = Client(raise_request_exception=False)
    folder = tmp_path / "pages"
    folder.mkdir()
    wrong: list[str] = []
    for name, fetch in _pages(client, settings, people, full_world).items():
        response = fetch()
        content_type = response.get("Content-Type", "")
        kind = "svg" if name.startswith("chart-") else "html"
        expected = EXPECTED_STATUS.get(name, (200, 400))
        if not content_type.startswith(MEDIA_TYPES[kind]) or response.status_code not in (
            expected if isinstance(expected, tuple) else (expected,)
        ):
            wrong.append(f"{name}: {response.status_code} {content_type}")
            continue
        if name.endswith(ERROR_STATES) and b"govuk-error-summary" not in response.content:
            wrong.append(f"{name}: no error summary")
            continue
        (folder / f"{name}.{kind}").write_bytes(response.content)
    if wrong:
        pytest.fail("Not the page asked for:\n" + "\n".join(wrong), pytrace=False)

    messages = _vnu_errors(command, folder)

    found = _listing(messages)
    if found:
        pytest.fail(
            f"The Nu HTML Checker found {len(found)} errors:\n" + "\n".join(found),
            pytrace=False,
        )
