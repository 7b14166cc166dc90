"""What may this user do now: one table of role × state → answer, driven through
the page and the API alike (SPEC §1, §2).

Each row names an action, a person (tests/conftest.py), the state of the object
and the answer both channels must give:

- allowed: the page redirects (302) and the API answers 2xx;
- forbidden: 403 from both (a visible object, an action this person may never take);
- conflict: 409 from both (the action exists but not in this state: a GOV.UK
  page saying it cannot be done now; the API's `{"detail", "code": "conflict"}`);
- invalid: 400 from both (the input is wrong: field errors);
- not_visible: 404 from both (existence is not disclosed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import TokenScope, User
from proposals import services, workflow
from proposals.enums import ExperimentStatus, Visibility
from proposals.exceptions import RefusalKind
from proposals.models import Challenge, Comment, Experiment, Outcome, Proposal
from tests.proposals.review_world import (
    ANSWERS,
    approved,
    planned,
    submitted,
    with_outcome,
)

PAGE_STATUS = {
    "allowed": 302,
    "forbidden": 403,
    "conflict": 409,
    "invalid": 400,
    "not_visible": 404,
}
API_CODE = {
    "forbidden": "permission_denied",
    "conflict": "conflict",
    "invalid": "invalid",
    "not_visible": "not_found",
}


@pytest.fixture(autouse=True)
def _api_defaults(settings) -> None:
    settings.API_SETTLING_LAG_SECONDS = 0
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def people(alice, amir, rita, ravi, lena, bob, hugo, ana) -> dict[str, User]:
    return {
        "alice": alice,
        "amir": amir,
        "rita": rita,
        "ravi": ravi,
        "lena": lena,
        "bob": bob,
        "hugo": hugo,
        "ana": ana,
    }


def closed_challenge() -> Challenge:
    today = timezone.localdate()
    return Challenge.objects.create(
        slug="closed-call",
        title="A closed call",
        question="How do we?",
        opens_on=today - dt.timedelta(days=30),
        closes_on=today - dt.timedelta(days=1),
    )


# --- the states ---------------------------------------------------------------------------


def _withdrawn(p: dict[str, User]) -> Proposal:
    proposal = submitted(p["alice"])
    return services.proposal_transition(proposal=proposal, actor=p["alice"], action="withdraw")


def _running(p: dict[str, User]) -> Experiment:
    experiment = planned(approved(p["alice"], p["rita"], p["lena"]), p["lena"])
    return services.experiment_start(experiment=experiment, actor=p["lena"])


def _outcome(p: dict[str, User]) -> Outcome:
    experiment = planned(approved(p["alice"], p["rita"], p["lena"]), p["lena"])
    return with_outcome(experiment, p["lena"])


STATES: dict[str, Callable[[dict[str, User]], Any]] = {
    "none": lambda p: None,
    "draft": lambda p: services.proposal_create_draft(author=p["alice"], data=ANSWERS),
    "submitted": lambda p: submitted(p["alice"]),
    "department_only": lambda p: submitted(p["alice"], visibility=Visibility.DEPARTMENT),
    "co_authored": lambda p: submitted(p["alice"], co_authors=[p["amir"]]),
    "co_authored_draft": lambda p: services.proposal_create_draft(
        author=p["alice"], data={**ANSWERS, "co_authors": [p["amir"]]}
    ),
    "withdrawn": _withdrawn,
    "planned_experiment": lambda p: planned(approved(p["alice"], p["rita"], p["lena"]), p["lena"]),
    "running_experiment": _running,
    "published_outcome": _outcome,
}


# --- the actions: how a page and the API perform each --------------------------------------

Driver = Callable[[Any, Any], Any]


def _url(obj: Any, tail: str) -> str:
    return f"/proposals/{obj.reference}/{tail}"


def _api(obj: Any, tail: str = "") -> str:
    return f"/api/v1/proposals/{obj.reference}/{tail}"


@dataclass(frozen=True)
class Action:
    page: Driver | None
    api: Driver | None
    api_ok: int = 200


ACTIONS: dict[str, Action] = {
    "comment": Action(
        page=lambda c, o: c.post(_url(o, "comments/"), {"body": "Useful in schools too"}),
        api=lambda c, o: c.post(_api(o, "comments/"), {"body": "Useful"}, format="json"),
        api_ok=201,
    ),
    "support": Action(
        page=lambda c, o: c.post(_url(o, "support/")),
        api=lambda c, o: c.post(_api(o, "supports/")),
        api_ok=201,
    ),
    "follow": Action(
        page=lambda c, o: c.post(_url(o, "follow/")),
        api=lambda c, o: c.post(_api(o, "follow/")),
        api_ok=201,
    ),
    "withdraw": Action(
        page=lambda c, o: c.post(_url(o, "withdraw/")),
        api=lambda c, o: c.post(_api(o, "withdraw/")),
    ),
    "request_info": Action(
        page=lambda c, o: c.post(
            _url(o, "triage/"), {"action": "request_info", "info-message": "Costs, please"}
        ),
        api=lambda c, o: c.post(
            _api(o, "triage/"), {"action": "request_info", "message": "Costs"}, format="json"
        ),
    ),
    "propose": Action(
        page=lambda c, o: c.post("/proposals/new/", {"title": "An idea", "action": "draft"}),
        api=lambda c, o: c.post("/api/v1/proposals/", {"title": "An idea"}, format="json"),
        api_ok=201,
    ),
    "propose_in_closed_challenge": Action(
        page=lambda c, o: c.post(
            "/proposals/new/",
            {"title": "An idea", "action": "draft", "challenge": closed_challenge().slug},
        ),
        api=lambda c, o: c.post(
            "/api/v1/proposals/",
            {"title": "An idea", "challenge": closed_challenge().slug},
            format="json",
        ),
    ),
    "move_to_closed_challenge": Action(
        page=lambda c, o: c.post(
            _url(o, "edit/details/"),
            {"visibility": "government", "challenge": closed_challenge().slug},
        ),
        api=lambda c, o: c.patch(_api(o), {"challenge": closed_challenge().slug}, format="json"),
    ),
    "co_author_unknown": Action(
        page=lambda c, o: c.post(
            _url(o, "edit/co-authors/"), {"co_author_0": "nobody@nowhere.example"}
        ),
        api=lambda c, o: c.patch(_api(o), {"co_authors": ["nobody@nowhere.example"]}, "json"),
    ),
    "co_author_outsider": Action(
        page=lambda c, o: c.post(
            _url(o, "edit/co-authors/"), {"co_author_0": "bob@homeoffice.example"}
        ),
        api=lambda c, o: c.patch(_api(o), {"co_authors": ["bob@homeoffice.example"]}, "json"),
    ),
    "co_author_colleague": Action(
        page=lambda c, o: c.post(_url(o, "edit/co-authors/"), {"co_author_0": "amir@dfe.example"}),
        api=lambda c, o: c.patch(_api(o), {"co_authors": ["amir@dfe.example"]}, "json"),
    ),
    "start_experiment": Action(
        page=lambda c, o: c.post(f"/experiments/{o.pk}/start/"),
        api=None,
    ),
    "stop_experiment": Action(
        page=lambda c, o: c.post(f"/experiments/{o.pk}/stop/", {"reason": "Too costly"}),
        api=None,
    ),
    "adopt": Action(page=lambda c, o: c.post(f"/lessons/{o.pk}/adopt/"), api=None),
}


@dataclass(frozen=True)
class Row:
    action: str
    who: str
    state: str
    expect: str

    def __str__(self) -> str:
        return f"{self.action}-{self.who}-{self.state}-{self.expect}"


ROWS = [
    # Comments: anyone who can see a submitted proposal, except analysts (read-only).
    Row("comment", "alice", "submitted", "allowed"),
    Row("comment", "bob", "submitted", "allowed"),
    Row("comment", "ana", "submitted", "forbidden"),
    Row("comment", "bob", "department_only", "not_visible"),
    Row("comment", "alice", "draft", "conflict"),
    # Support: not your own, not an analyst, not once it is withdrawn.
    Row("support", "bob", "submitted", "allowed"),
    Row("support", "ana", "submitted", "forbidden"),
    Row("support", "alice", "submitted", "forbidden"),
    Row("support", "amir", "co_authored", "forbidden"),
    Row("support", "bob", "withdrawn", "conflict"),
    Row("support", "hugo", "department_only", "not_visible"),
    # Follow: anyone who may see it and write, but not its authors (told already).
    Row("follow", "bob", "submitted", "allowed"),
    Row("follow", "rita", "withdrawn", "allowed"),
    Row("follow", "alice", "submitted", "forbidden"),
    Row("follow", "ana", "submitted", "forbidden"),
    Row("follow", "alice", "draft", "forbidden"),
    Row("follow", "hugo", "department_only", "not_visible"),
    # Withdraw: authors; a second withdraw is a state conflict, never a 403.
    Row("withdraw", "alice", "submitted", "allowed"),
    Row("withdraw", "alice", "withdrawn", "conflict"),
    Row("withdraw", "amir", "submitted", "forbidden"),
    Row("withdraw", "ana", "submitted", "forbidden"),
    Row("withdraw", "bob", "department_only", "not_visible"),
    # Triage: the owning department's reviewers.
    Row("request_info", "rita", "submitted", "allowed"),
    Row("request_info", "hugo", "submitted", "forbidden"),
    Row("request_info", "ana", "submitted", "forbidden"),
    Row("request_info", "rita", "withdrawn", "conflict"),
    # Proposing: every civil servant but analysts; a closed challenge takes none.
    Row("propose", "alice", "none", "allowed"),
    Row("propose", "ana", "none", "forbidden"),
    Row("propose_in_closed_challenge", "alice", "none", "invalid"),
    Row("move_to_closed_challenge", "alice", "submitted", "invalid"),
    Row("move_to_closed_challenge", "alice", "draft", "invalid"),
    # Co-authors: colleagues who can see the proposal; one answer for every other
    # email, whether or not it has an account.
    Row("co_author_colleague", "alice", "draft", "allowed"),
    Row("co_author_unknown", "alice", "draft", "invalid"),
    Row("co_author_outsider", "alice", "draft", "invalid"),
    Row("co_author_colleague", "amir", "draft", "not_visible"),
    Row("co_author_colleague", "amir", "co_authored_draft", "allowed"),
    Row("co_author_outsider", "amir", "co_authored_draft", "invalid"),
    Row("co_author_colleague", "bob", "submitted", "forbidden"),
    Row("co_author_colleague", "alice", "withdrawn", "conflict"),
    # Experiments: the lead starts a planned one and stops a running one.
    Row("start_experiment", "lena", "planned_experiment", "allowed"),
    Row("start_experiment", "lena", "running_experiment", "conflict"),
    Row("start_experiment", "amir", "planned_experiment", "forbidden"),
    Row("start_experiment", "ana", "planned_experiment", "forbidden"),
    Row("stop_experiment", "lena", "running_experiment", "allowed"),
    Row("stop_experiment", "lena", "planned_experiment", "conflict"),
    Row("stop_experiment", "ana", "running_experiment", "forbidden"),
    # Adopting a published outcome: any civil servant, never an analyst.
    Row("adopt", "bob", "published_outcome", "allowed"),
    Row("adopt", "ana", "published_outcome", "forbidden"),
]


def _api_client(user: User) -> APIClient:
    _, key = services.api_token_create(user=user, name="rules", scope=TokenScope.WRITE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.parametrize("row", [r for r in ROWS if ACTIONS[r.action].page], ids=str)
def test_page_answers(row: Row, people: dict[str, User]) -> None:
    obj = STATES[row.state](people)
    client = Client()
    client.force_login(people[row.who])
    response = ACTIONS[row.action].page(client, obj)  # type: ignore[misc]
    assert response.status_code == PAGE_STATUS[row.expect], response.content.decode()[:2000]
    if row.expect == "conflict":
        body = response.content.decode()
        # A GOV.UK page that says why, not a bare status.
        assert "govuk-heading-l" in body
        assert "cannot" in body


@pytest.mark.parametrize("row", [r for r in ROWS if ACTIONS[r.action].api], ids=str)
def test_api_answers(row: Row, people: dict[str, User]) -> None:
    obj = STATES[row.state](people)
    action = ACTIONS[row.action]
    response = action.api(_api_client(people[row.who]), obj)  # type: ignore[misc]
    if row.expect == "allowed":
        assert response.status_code == action.api_ok, response.content
        return
    assert response.status_code == PAGE_STATUS[row.expect], response.content
    body = response.json()
    assert body["code"] == API_CODE[row.expect]
    assert isinstance(body["detail"], str) and body["detail"]
    if row.expect == "invalid":
        assert set(body) == {"detail", "errors", "code"}
    else:
        assert set(body) == {"detail", "code"}


# --- findings that need more than a status ---------------------------------------------------


def test_co_author_answer_is_the_same_whether_or_not_an_account_exists(people) -> None:
    draft = services.proposal_create_draft(author=people["alice"], data=ANSWERS)
    client = _api_client(people["alice"])
    unknown = client.patch(_api(draft), {"co_authors": ["nobody@dfe.example"]}, format="json")
    outsider = client.patch(_api(draft), {"co_authors": ["bob@homeoffice.example"]}, format="json")
    assert unknown.status_code == outsider.status_code == 400
    assert unknown.json() == outsider.json()
    assert unknown.json()["errors"] == {
        "co_authors": [workflow.co_author_unknown(draft.department)]
    }


def test_co_author_from_a_collaborating_department_is_accepted(people, home_office) -> None:
    draft = services.proposal_create_draft(author=people["alice"], data=ANSWERS)
    client = _api_client(people["alice"])
    response = client.patch(
        _api(draft),
        {"collaborating_departments": ["home-office"], "co_authors": ["bob@homeoffice.example"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert list(draft.co_authors.values_list("email", flat=True)) == ["bob@homeoffice.example"]


def test_analyst_sees_no_write_buttons(people) -> None:
    proposal = submitted(people["alice"])
    outcome = _outcome(people)
    client = Client()
    client.force_login(people["ana"])
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert "Support this proposal" not in page
    assert "Add comment" not in page
    assert "Withdraw proposal" not in page
    lesson = client.get(f"/lessons/{outcome.pk}/").content.decode()
    assert f"/lessons/{outcome.pk}/adopt/" not in lesson
    detail = _api_client(people["ana"]).get(_api(proposal)).json()
    assert detail["available_actions"] == []


def test_colleague_sees_the_write_buttons(people) -> None:
    proposal = submitted(people["alice"])
    client = Client()
    client.force_login(people["bob"])
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert "Support this proposal" in page
    assert "Add comment" in page


# --- the experiment table ------------------------------------------------------------------


def test_experiment_table_names_each_step() -> None:
    table = {
        t.action: (sorted(t.sources), t.target) for t in workflow.EXPERIMENT_TRANSITIONS.values()
    }
    assert table == {
        "start": ([ExperimentStatus.PLANNED], ExperimentStatus.RUNNING),
        "stop": ([ExperimentStatus.RUNNING], ExperimentStatus.STOPPED),
        "complete": ([ExperimentStatus.RUNNING], ExperimentStatus.COMPLETED),
        "record_outcome": (
            sorted(
                [ExperimentStatus.RUNNING, ExperimentStatus.COMPLETED, ExperimentStatus.STOPPED]
            ),
            None,
        ),
        "publish_outcome": (
            sorted([ExperimentStatus.COMPLETED, ExperimentStatus.STOPPED]),
            None,
        ),
        "review_benefit": (
            sorted([ExperimentStatus.COMPLETED, ExperimentStatus.STOPPED]),
            None,
        ),
        "plan_evaluation": (sorted(ExperimentStatus), None),
    }


def test_available_experiment_actions_follow_the_state(people) -> None:
    experiment = STATES["planned_experiment"](people)
    lena, ana = people["lena"], people["ana"]
    assert [t.action for t in workflow.available_experiment_actions(lena, experiment)] == [
        "start",
        "plan_evaluation",
    ]
    assert workflow.available_experiment_actions(ana, experiment) == []
    services.experiment_start(experiment=experiment, actor=lena)
    experiment.refresh_from_db()
    assert [t.action for t in workflow.available_experiment_actions(lena, experiment)] == [
        "stop",
        "record_outcome",
        "plan_evaluation",
    ]


def test_experiment_page_buttons_come_from_the_table(people) -> None:
    experiment = STATES["planned_experiment"](people)
    client = Client()
    client.force_login(people["lena"])
    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert "Start experiment" in page
    assert "Stop the experiment early" not in page
    client.force_login(people["ana"])
    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert "Start experiment" not in page


# --- one check, one kind of refusal ----------------------------------------------------------


def test_refusal_kinds(people) -> None:
    proposal = _withdrawn(people)
    alice, amir = people["alice"], people["amir"]
    conflict = workflow.refusal(alice, "withdraw", proposal)
    forbidden = workflow.refusal(amir, "withdraw", proposal)
    assert conflict is not None and conflict.kind == RefusalKind.CONFLICT
    assert forbidden is not None and forbidden.kind == RefusalKind.FORBIDDEN
    assert workflow.refusal(alice, "comment", proposal) is None


# --- the comment edit window ------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "status"), [(14, 302), (16, 403)])
def test_comment_edit_window(people, minutes: int, status: int) -> None:
    proposal = submitted(people["alice"])
    comment = services.comment_add(proposal=proposal, author=people["bob"], body="First")
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    client = Client()
    client.force_login(people["bob"])
    response = client.post(_url(proposal, f"comments/{comment.pk}/edit/"), {"body": "Second"})
    assert response.status_code == status
    if status == 403:
        assert "15 minutes" in response.content.decode()


# --- a NUL byte, or a number too big, in any address: 404, never 500 -------------------------

REFERENCE_ROUTES = [
    "/proposals/{ref}/",
    "/proposals/{ref}/triage/",
    "/proposals/{ref}/assess/",
    "/proposals/{ref}/decide/",
    "/proposals/{ref}/merge/",
    "/proposals/{ref}/close/",
    "/proposals/{ref}/feedback/",
    "/proposals/{ref}/experiments/new/",
    "/proposals/{ref}/withdraw/",
    "/proposals/{ref}/check/",
    "/proposals/{ref}/edit/about/",
    "/api/v1/proposals/{ref}/",
    "/api/v1/proposals/{ref}/comments/",
    "/api/v1/proposals/{ref}/supports/",
    "/api/v1/departments/{ref}/",
    "/api/v1/challenges/{ref}/",
    "/challenges/{ref}/",
]
ID_ROUTES = [
    "/experiments/{id}/",
    "/experiments/{id}/stop/",
    "/experiments/{id}/outcome/",
    "/lessons/{id}/",
    "/proposals/DFE-2026-0001/attachments/{id}/",
    "/proposals/DFE-2026-0001/comments/{id}/edit/",
    "/api/v1/experiments/{id}/",
    "/api/v1/outcomes/{id}/",
    "/api/v1/reports/{id}/",
    "/api/v1/webhooks/{id}/deliveries/",
]
BAD_REFERENCES = ["DFE-2026-0001%00", "%00", "DFE%002026-0001"]
BAD_IDS = ["1%00", "%00", "99999999999999999999"]


@pytest.mark.parametrize("route", REFERENCE_ROUTES)
@pytest.mark.parametrize("bad", BAD_REFERENCES)
def test_nul_in_a_reference_is_404(route: str, bad: str, people) -> None:
    submitted(people["alice"])
    client = Client()
    client.force_login(people["lena"])
    url = route.format(ref=bad)
    response = _api_client(people["lena"]).get(url) if url.startswith("/api/") else client.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize("route", ID_ROUTES)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_id_in_an_address_is_404(route: str, bad: str, people) -> None:
    client = Client()
    client.force_login(people["lena"])
    url = route.format(id=bad)
    response = _api_client(people["lena"]).get(url) if url.startswith("/api/") else client.get(url)
    assert response.status_code == 404
