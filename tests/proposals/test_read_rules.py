"""One table per read rule, driving every door that shows the object.

Each rule is a table of (viewer → may read?) over one world; each door (page,
API list and detail, report, export) is a function that returns what the viewer
is shown there, and a marker written only into that object must appear exactly
where the rule says. A door some roles cannot open at all (the panel sheet, a
report) must then refuse, not show. The last test walks the URL list: a new
route must be named here as a door of a rule or as no door, with the reason,
so a door without cases fails.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import Role, TokenScope, User
from proposals import opendata, reports, services
from proposals import permissions as perms
from proposals.enums import Visibility
from proposals.exceptions import ActionNotAllowed
from proposals.models import (
    Adoption,
    Assessment,
    Criterion,
    EvaluationPlan,
    Experiment,
    Outcome,
    Proposal,
)
from proposals.services import api_token_create
from tests.factories import UserFactory
from tests.proposals import review_world as rw

VIEWERS = ["alice", "amir", "rita", "ravi", "lena", "bob", "hugo", "holly", "ana"]

UNPUBLISHED_LESSON = "Handwriting-unpublished-lesson-7d2f"
PUBLISHED_LESSON = "Handwriting-published-lesson-9c1e"
DEPARTMENT_ONLY_LESSON = "Department-only-lesson-4b8a"
RAVI_ON_ALICE = "Ravi-on-alice-comment-2e6d"
RAVI_ON_RITA = "Ravi-on-rita-comment-5f3a"
MORE_INFO = "More-info-rationale-8a1c"
DEPARTMENT_ONLY_PILOT = "Department-only-pilot-3e9b"
DEPARTMENT_ONLY_EVALUATION = "Department-only-evaluation-6c2d"
DRAFT_ADOPTION = "Draft-adoption-title-1f7a"
DEPARTMENT_ONLY_ADOPTION = "Department-only-adoption-title-8d3c"


@dataclass
class World:
    users: dict[str, User]
    unpublished: Outcome
    published: Outcome
    department_only: Outcome
    pilot: Experiment
    evaluation: EvaluationPlan  # the pilot's, on department-only work
    lead_assessing: Proposal  # alice's, in review: ravi has submitted, lena has not
    rita_wrote: Proposal  # rita's own, in review: ravi has submitted
    more_info: Proposal  # alice's, with a request for more information
    draft_adoption: Adoption  # bob's draft adopting the published lesson
    department_only_adoption: Adoption  # hugo's, submitted, Home Office only


def _submit_assessment(proposal: Proposal, assessor: User, comment: str, score: int) -> None:
    services.assessment_declare_conflict(proposal=proposal, assessor=assessor, conflict=False)
    criteria = Criterion.objects.filter(department_id=proposal.department_id, active=True)
    services.assessment_submit(
        proposal=proposal,
        assessor=assessor,
        scores={c.pk: (score, comment) for c in criteria},
        recommendation="fund",
        comment=comment,
    )


@pytest.fixture
def world(settings, tmp_path, alice, amir, rita, ravi, lena, bob, hugo, ana, home_office) -> World:
    # The open dataset's manifest has one name: a folder of this test's own.
    settings.MEDIA_ROOT = str(tmp_path)
    # The API's lists hold back rows younger than the settling lag; these are all new.
    settings.API_SETTLING_LAG_SECONDS = 0
    holly = UserFactory.create(
        email="holly@homeoffice.example", department=home_office, role=Role.LEAD
    )
    people = [alice, amir, rita, ravi, lena, bob, hugo, ana, holly]
    users = {person.email.split("@")[0]: person for person in people}

    # Outcomes: one unpublished, one published, one published on department-only work.
    approved = rw.approved(alice, rita, lena, title="Approved idea")
    unpublished = rw.with_outcome(rw.planned(approved, lena, "First pilot"), lena, publish=False)
    Outcome.objects.filter(pk=unpublished.pk).update(lessons=UNPUBLISHED_LESSON)
    second = rw.approved(alice, rita, lena, title="Second idea")
    published = rw.with_outcome(rw.planned(second, lena, "Published pilot"), lena)
    Outcome.objects.filter(pk=published.pk).update(lessons=PUBLISHED_LESSON)
    private = rw.approved(alice, rita, lena, title="Private idea")
    Proposal.objects.filter(pk=private.pk).update(visibility=Visibility.DEPARTMENT)
    department_only = rw.with_outcome(rw.planned(private, lena, "Private pilot"), lena)
    Outcome.objects.filter(pk=department_only.pk).update(lessons=DEPARTMENT_ONLY_LESSON)
    pilot = rw.planned(private, lena, DEPARTMENT_ONLY_PILOT)
    evaluation = services.evaluation_plan_save(
        experiment=pilot,
        actor=lena,
        data={
            "evaluation_types": ["process"],
            "process_designs": ["interviews"],
            "brief_description": DEPARTMENT_ONLY_EVALUATION,
            "evaluation_start": dt.date(2026, 1, 5),
            "evaluation_end": dt.date(2026, 6, 30),
            "intervention_start": dt.date(2026, 1, 5),
            "intervention_end": dt.date(2026, 3, 27),
            "final_report_due": dt.date(2026, 6, 19),
        },
    )

    # Independent scoring: lena (a lead) is an assessor yet to submit.
    lead_assessing = rw.in_review(alice, rita, [ravi, lena], title="Lead assessing")
    _submit_assessment(lead_assessing, ravi, RAVI_ON_ALICE, 5)
    # A reviewer's own proposal, assessed by a colleague.
    rita_wrote = rw.in_review(rita, lena, [ravi], title="Rita wrote this")
    _submit_assessment(rita_wrote, ravi, RAVI_ON_RITA, 3)

    more_info = rw.submitted(alice, title="Needs more")
    services.proposal_transition(
        proposal=more_info, actor=rita, action="request_info", data={"message": MORE_INFO}
    )
    # The published lesson adopted twice at the Home Office: a draft, and department-only work.
    draft_copy = services.proposal_adopt(outcome=Outcome.objects.get(pk=published.pk), actor=bob)
    Proposal.objects.filter(pk=draft_copy.pk).update(title=DRAFT_ADOPTION)
    kept = services.proposal_adopt(outcome=Outcome.objects.get(pk=published.pk), actor=hugo)
    Proposal.objects.filter(pk=kept.pk).update(
        title=DEPARTMENT_ONLY_ADOPTION, visibility=Visibility.DEPARTMENT
    )
    services.proposal_transition(
        proposal=Proposal.objects.get(pk=kept.pk), actor=hugo, action="submit"
    )
    return World(
        users=users,
        unpublished=unpublished,
        published=published,
        department_only=department_only,
        pilot=pilot,
        evaluation=evaluation,
        lead_assessing=lead_assessing,
        rita_wrote=rita_wrote,
        more_info=more_info,
        draft_adoption=Adoption.objects.get(proposal=draft_copy),
        department_only_adoption=Adoption.objects.get(proposal=kept),
    )


# --- the doors -------------------------------------------------------------------------------
#
# A door returns the text the viewer is shown, or None when it is closed to them
# (it must then answer 403 or 404, or the service must refuse: never show).


def _page(client, user: User, path: str) -> str | None:
    client.force_login(user)
    response = client.get(path)
    if response.status_code in (403, 404):
        return None
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def _api(user: User, path: str) -> str | None:
    _, key = api_token_create(user=user, name="doors", scope=TokenScope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(path, HTTP_ACCEPT="application/json")
    if response.status_code in (403, 404):
        return None
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return json.dumps(response.json())


def _report(user: User, kind: str) -> str | None:
    """The report door end to end: request it, let the worker's build run, read the file."""
    try:
        report = services.report_request(user=user, kind=kind, format="json", filters={})
    except ActionNotAllowed:
        return None
    assert reports.build(str(report.pk)) is True
    report.refresh_from_db()
    with default_storage.open(report.file.name) as handle:
        return handle.read().decode()


Door = Callable[..., "str | None"]


def _open_data(client) -> str:
    """The open dataset as anyone downloads it (signed in or not), rebuilt as beat does."""
    opendata.build()
    client.logout()
    response = client.get("/data/lessons.csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def _panel_row(client, user: User, proposal: Proposal) -> str | None:
    """The panel sheet's row of this proposal, with its weighted score read as the
    assessment's marker: the sheet shows figures, never the comments."""
    page = _page(client, user, "/review/panel/")
    if page is None:
        return None
    rows = [row for row in page.split("<tr") if proposal.reference in row]
    if not rows:  # another department's sheet
        return ""
    score = Assessment.objects.get(proposal=proposal, assessor__email="ravi@dfe.example")
    shown = f"{score.weighted_score:.2f}" in rows[0]
    return rows[0] + (score.comment if shown else "")


# The lessons library's doors show published outcomes only.
LIBRARY = {"lessons:list", "lessons:detail", "api:outcome-list", "api:outcome-detail"}

# Each door: (the object, a test client, the viewer) → what they are shown.
OUTCOME_DOORS: dict[str, Door] = {
    "proposals:detail": lambda o, c, u: _page(
        c, u, f"/proposals/{o.experiment.proposal.reference}/"
    ),
    "experiments:detail": lambda o, c, u: _page(c, u, f"/experiments/{o.experiment_id}/"),
    "lessons:list": lambda o, c, u: _page(c, u, "/lessons/"),
    "lessons:detail": lambda o, c, u: _page(c, u, f"/lessons/{o.pk}/"),
    "api:proposal-detail": lambda o, c, u: _api(
        u, f"/api/v1/proposals/{o.experiment.proposal.reference}/"
    ),
    "api:outcome-list": lambda o, c, u: _api(u, "/api/v1/outcomes/?page_size=100"),
    "api:outcome-detail": lambda o, c, u: _api(u, f"/api/v1/outcomes/{o.pk}/"),
    "report:outcomes": lambda o, c, u: _report(u, "outcomes"),
    "data:lessons": lambda o, c, u: _open_data(c),
}
# The open dataset: what the library shows an analyst, the same for everyone.
OPEN_DATA = {"data:lessons"}

ASSESSMENT_DOORS: dict[str, Door] = {
    "proposals:detail": lambda p, c, u: _page(c, u, f"/proposals/{p.reference}/"),
    "review:decide": lambda p, c, u: _page(c, u, f"/proposals/{p.reference}/decide/"),
    "review:panel": lambda p, c, u: _panel_row(c, u, p),
    "review:assess": lambda p, c, u: _page(c, u, f"/proposals/{p.reference}/assess/"),
    "api:proposal-detail": lambda p, c, u: _api(u, f"/api/v1/proposals/{p.reference}/"),
}

DECISION_DOORS: dict[str, Door] = {
    "proposals:detail": lambda p, c, u: _page(c, u, f"/proposals/{p.reference}/"),
    "api:proposal-detail": lambda p, c, u: _api(u, f"/api/v1/proposals/{p.reference}/"),
    "report:proposals": lambda p, c, u: _report(u, "proposals"),
}

EXPERIMENT_DOORS: dict[str, Door] = {
    "proposals:detail": lambda e, c, u: _page(c, u, f"/proposals/{e.proposal.reference}/"),
    "experiments:list": lambda e, c, u: _page(c, u, "/experiments/"),
    "experiments:detail": lambda e, c, u: _page(c, u, f"/experiments/{e.pk}/"),
    "api:experiment-list": lambda e, c, u: _api(u, "/api/v1/experiments/?page_size=100"),
    "api:experiment-detail": lambda e, c, u: _api(u, f"/api/v1/experiments/{e.pk}/"),
}


EVALUATION_DOORS: dict[str, Door] = {
    "experiments:detail": lambda v, c, u: _page(c, u, f"/experiments/{v.experiment_id}/"),
    "api:evaluation-list": lambda v, c, u: _api(u, "/api/v1/evaluations/?page_size=100"),
    "api:evaluation-detail": lambda v, c, u: _api(u, f"/api/v1/evaluations/{v.pk}/"),
    "report:evaluation_registry": lambda v, c, u: _report(u, "evaluation_registry"),
}

# An adoption is shown, as its adopting proposal's title, on the lesson and on the
# proposal whose lesson it is (`selectors.adoption_filter`).
ADOPTION_DOORS: dict[str, Door] = {
    "lessons:detail": lambda a, c, u: _page(c, u, f"/lessons/{a.outcome_id}/"),
    "proposals:detail": lambda a, c, u: _page(
        c, u, f"/proposals/{a.outcome.experiment.proposal.reference}/"
    ),
}


# --- the rules: (object, marker, doors, who may read it) --------------------------------------

DFE = {"alice", "amir", "rita", "ravi", "lena"}
DFE_PANEL = {"rita", "ravi", "lena"}

# rule: (its doors, the world's object, the marker only that object carries, who reads it)
RULES: dict[str, tuple[dict[str, Door], str, str, set[str]]] = {
    # An unpublished outcome: the owning department's panel only (never other
    # departments, analysts, or the author before it is published).
    "unpublished outcome": (OUTCOME_DOORS, "unpublished", UNPUBLISHED_LESSON, DFE_PANEL),
    "published outcome": (OUTCOME_DOORS, "published", PUBLISHED_LESSON, set(VIEWERS)),
    "published outcome of department-only work": (
        OUTCOME_DOORS,
        "department_only",
        DEPARTMENT_ONLY_LESSON,
        DFE,
    ),
    # Independent scoring: lena assesses too and has not submitted; the author
    # never reads assessments; ravi reads his own.
    "assessment while the lead's own is pending": (
        ASSESSMENT_DOORS,
        "lead_assessing",
        RAVI_ON_ALICE,
        {"rita", "ravi"},
    ),
    "assessment of a reviewer's own proposal": (
        ASSESSMENT_DOORS,
        "rita_wrote",
        RAVI_ON_RITA,
        {"ravi", "lena"},
    ),
    "request for more information": (
        DECISION_DOORS,
        "more_info",
        MORE_INFO,
        {"alice", "rita", "ravi", "lena"},
    ),
    "evaluation plan of department-only work": (
        EVALUATION_DOORS,
        "evaluation",
        DEPARTMENT_ONLY_EVALUATION,
        DFE,
    ),
    "experiment of department-only work": (
        EXPERIMENT_DOORS,
        "pilot",
        DEPARTMENT_ONLY_PILOT,
        DFE,
    ),
    # An adoption goes with its adopting proposal: a draft is its author's alone,
    # department-only work its department's, even on the adopted lesson's own pages.
    "adoption by a draft": (ADOPTION_DOORS, "draft_adoption", DRAFT_ADOPTION, {"bob"}),
    "adoption by department-only work": (
        ADOPTION_DOORS,
        "department_only_adoption",
        DEPARTMENT_ONLY_ADOPTION,
        {"bob", "hugo", "holly"},
    ),
}


def _door_open(door: str, user: User, world: World, obj: object) -> bool:
    """Whether this viewer has this door at all, for this object (role-only pages,
    the library of published outcomes, services only some roles may ask)."""
    if door in {"review:panel", "review:decide"}:
        return user.role == Role.LEAD and user.department_id == world.users["lena"].department_id
    if door == "review:assess":
        return isinstance(obj, Proposal) and obj.assessments.filter(assessor=user).exists()
    if door in OPEN_DATA:
        if not isinstance(obj, Outcome):
            return False
        outcome = Outcome.objects.select_related("experiment__proposal").get(pk=obj.pk)
        return outcome.published and outcome.experiment.proposal.visibility == Visibility.GOVERNMENT
    if door in LIBRARY:
        if isinstance(obj, Adoption):  # only a published lesson is adopted
            return True
        return isinstance(obj, Outcome) and Outcome.objects.get(pk=obj.pk).published
    if door.startswith("report:"):
        return perms.can_request_reports(user)
    return True


# Every (rule, door) pair, each run for every viewer in one test.
CASES = [
    pytest.param(rule, door, id=f"{rule} | {door}")
    for rule, (doors, _, _, _) in RULES.items()
    for door in doors
]


@pytest.mark.django_db
@pytest.mark.parametrize(("rule", "door"), CASES)
def test_every_door_gives_the_rules_answer(client, world, rule, door):
    doors, attribute, marker, readers = RULES[rule]
    obj = getattr(world, attribute)
    wrong = []
    for name in VIEWERS:
        user = world.users[name]
        shown = doors[door](obj, client, user)
        may = name in readers and _door_open(door, user, world, obj)
        if shown is None:
            if may:
                wrong.append(f"{name}: the door is closed, but they may read it")
            continue
        if (marker in shown) != may:
            wrong.append(f"{name}: {'hidden' if may else 'shown'}")
    assert wrong == [], wrong


# --- every door has cases ----------------------------------------------------------------------

COVERED = {door for doors, _, _, _ in RULES.values() for door in doors}

# Routes that show none of these objects, or only the proposal itself (whose
# door table is tests/proposals/test_visibility.py and tests/api/test_access_matrix.py).
NOT_A_DOOR_FOR_THESE_RULES = {
    "home": "links and counts of the viewer's own work",
    "privacy": "static",
    "accessibility": "static",
    "cookies": "static",
    "healthz": "service health",
    "account": "the viewer's own account",
    "proposals:find": "proposal list: the proposal visibility table",
    "proposals:new": "a form",
    "proposals:attachments": "the author's edit page",
    "proposals:edit": "the author's edit page",
    "proposals:check_answers": "the author's answers",
    "proposals:submitted": "a confirmation",
    "proposals:delete": "an action",
    "proposals:withdraw": "an action",
    "proposals:resubmit": "an action, showing the request through proposals:detail's rule",
    "proposals:propose_again": "an action",
    "proposals:attachment": "a file of a visible proposal: the proposal visibility table",
    "proposals:attachment_remove": "an action",
    "proposals:comment_add": "an action",
    "proposals:comment_edit": "the author's own comment",
    "proposals:support": "an action",
    "proposals:support_withdraw": "an action",
    "proposals:follow": "an action",
    "proposals:unfollow": "an action",
    "review:dashboard": "the triage queue: proposals, not assessments",
    "review:triage": "triage form: no scores",
    "review:merge": "an action",
    "review:close": "the lead's own department's experiments, outcomes by selectors.outcomes_of",
    "review:feedback": "release page for the lead: assessment rule via the same selector",
    "experiments:plan": "a form",
    "experiments:evaluation": "the lead's evaluation plan form",
    "experiments:benefit_review": "the lead's benefit review form",
    "api:experiment-start": "an action",
    "experiments:start": "an action",
    "experiments:stop": "an action",
    "experiments:outcome_record": "the lead's form",
    "experiments:outcome_publish": "an action",
    "lessons:adopt": "an action on a published outcome",
    "portfolio:dashboard": "aggregates: tests/proposals/test_portfolio.py",
    "portfolio:chart": "aggregates: tests/proposals/test_portfolio.py",
    "departments:settings": "the lead's settings",
    "departments:set_role": "an action",
    "departments:move_person": "an action",
    "challenges:list": "challenges are public to signed-in users",
    "challenges:new": "a form",
    "challenges:detail": "a challenge and the proposal list",
    "challenges:close": "an action",
    "reports:list": "the viewer's own reports",
    "reports:status": "the viewer's own report",
    "reports:retry": "an action on the viewer's own report",
    "reports:download": "the report door (report:*) reads the same file",
    "account:tokens": "the viewer's own tokens",
    "account:token_new": "a form",
    "account:token_created": "the viewer's own token",
    "account:token_revoke": "an action",
    "account:notifications": "the viewer's own settings",
    "account:invitations": "a department's invitations: tests/proposals/test_invitations.py",
    "account:invitation_new": "a form",
    "account:invitation_revoke": "an action",
    "account:invitation_accept": "the link's invitation: tests/proposals/test_invitations.py",
    "account:webhooks": "the department's endpoints, leads only: tests/workers/test_webhooks.py",
    "account:webhook_test": "an action",
    "account:webhook_remove": "an action",
    "account:webhook_rotate": "an action",
    "account:webhook_retire_secret": "an action",
    "api:changes": "the list shape of proposals: tests/api/test_changes.py",
    "api:proposal-list": "proposal list: tests/api/test_access_matrix.py",
    "api:proposal-similar": (
        "references and titles only, through proposals_visible_to and "
        "published_outcomes_visible_to: tests/proposals/test_similarity.py"
    ),
    "api:proposal-similar-to-draft": "the same as api:proposal-similar",
    "api:proposal-assess": "an action",
    "api:proposal-close": "an action",
    "api:proposal-comments": "comments of a visible proposal",
    "api:proposal-decide": "an action",
    "api:proposal-merge": "an action",
    "api:proposal-resubmit": "an action",
    "api:proposal-submit": "an action",
    "api:proposal-supports": "supports of a visible proposal",
    "api:proposal-follow": "whether the caller follows a visible proposal",
    "api:proposal-triage": "an action",
    "api:proposal-withdraw": "an action",
    "api:department-list": "reference data",
    "api:department-detail": "reference data",
    "api:department-criteria": "reference data",
    "api:theme-list": "reference data",
    "api:challenge-list": "public to signed-in users",
    "api:challenge-detail": "public to signed-in users",
    "api:report-list": "the caller's own reports",
    "api:report-detail": "the caller's own report",
    "api:report-download": "the report door (report:*) reads the same file",
    "api:webhook-list": "the department's endpoints, leads only",
    "api:webhook-deliveries": "the department's deliveries, leads only",
    "api:webhook-rotate-secret": "an action on the department's endpoint, leads only",
    "api:webhook-retire-previous-secret": "an action on the department's endpoint, leads only",
    "api:schema": "the schema",
    "api:docs": "the schema",
    "api:data-dictionary": "reference documentation",
    "data:catalog": "the open dataset's catalogue: its title, dates and addresses, no outcome",
    "data:lessons_schema": "reference documentation (the open dataset's table schema)",
    "api:not-found": "the 404",
}


def _route_names(patterns, namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name


def test_every_route_is_a_door_with_cases_or_says_why_it_is_not():
    routes = {
        name
        for name in _route_names(get_resolver().url_patterns)
        # The operator's Django admin and the sign-in pages show no product objects.
        if not name.startswith(("admin:", "accounts:"))
    }
    unclassified = routes - COVERED - set(NOT_A_DOOR_FOR_THESE_RULES)
    assert unclassified == set(), "add each new route to a rule's doors, or say why it is none"
    # …and nothing listed here has gone, so the list stays true.
    listed = {door for door in COVERED | set(NOT_A_DOOR_FOR_THESE_RULES) if ":" in door}
    gone = {d for d in listed if not d.startswith("report:")} - routes
    assert gone == set()
