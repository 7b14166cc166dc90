"""Every API endpoint × role × own / other department / draft: the expected status.

The cases are generated from the URL list: an endpoint (or a method on one)
without an entry in CASES fails `test_every_endpoint_has_access_cases`, so a
new endpoint cannot ship untested. Anything a caller may not see is 404 on
every verb and action, and such a request writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver

from proposals.api import urls as api_urls
from proposals.models import Comment, Follow, Proposal, Support
from tests.api.world import ROLES, TARGETS, VISIBLE, World, build_world

Expect = Callable[[str, str | None], int]  # (role, target) → status when visible


@dataclass(frozen=True)
class Case:
    path: Callable[[World, str | None], str]
    expect: Expect
    body: dict[str, Any] | None = None
    per_target: bool = False  # run once per proposal target


def _proposal_path(suffix: str = "") -> Callable[[World, str | None], str]:
    def build(world: World, target: str | None) -> str:
        assert target is not None
        return f"/api/v1/proposals/{world.proposals[target].reference}/{suffix}"

    return build


def _fixed(path: str) -> Callable[[World, str | None], str]:
    return lambda world, target: path


def always(code: int) -> Expect:
    return lambda role, target: code


def author_only(ok: dict[str, int], other: int = 403) -> Expect:
    """Alice wrote every DfE proposal and Bob the Home Office one."""

    def expect(role: str, target: str | None) -> int:
        author = "bob" if target == "ho_department" else "alice"
        return ok[target] if role == author else other  # type: ignore[index]

    return expect


def reviewers(ok: int) -> Expect:
    def expect(role: str, target: str | None) -> int:
        panel = {"hugo"} if target == "ho_department" else {"rita", "lena"}
        return ok if role in panel else 403

    return expect


def dfe_lead(ok: dict[str, int]) -> Expect:
    return lambda role, target: ok.get(target, 403) if role == "lena" else 403  # type: ignore[arg-type]


def roles(allowed: set[str], ok: int, other: int) -> Expect:
    return lambda role, target: ok if role in allowed else other


ALL_SUBMITTED = {"own_draft": 0, "dfe_government": 0, "dfe_department": 0, "ho_department": 0}

CASES: dict[tuple[str, str], Case] = {
    # --- proposals ---
    ("proposal-list", "GET"): Case(_fixed("/api/v1/proposals/"), always(200)),
    ("proposal-list", "POST"): Case(
        _fixed("/api/v1/proposals/"),
        roles(set(ROLES) - {"ana"}, 201, 403),
        body={"title": "A new idea"},
    ),
    ("proposal-detail", "GET"): Case(_proposal_path(), always(200), per_target=True),
    # Reads, whoever asks; only what the caller may see comes back (test_similar.py).
    ("proposal-similar", "GET"): Case(_proposal_path("similar/"), always(200), per_target=True),
    ("proposal-similar-to-draft", "POST"): Case(
        _fixed("/api/v1/proposals/similar/"), always(200), body={"title": "A new idea"}
    ),
    ("proposal-detail", "PATCH"): Case(
        _proposal_path(),
        author_only(
            {"own_draft": 200, "dfe_government": 200, "dfe_department": 200, "ho_department": 200}
        ),
        body={"title": "Changed"},
        per_target=True,
    ),
    ("proposal-detail", "DELETE"): Case(
        _proposal_path(),
        author_only(
            {"own_draft": 204, "dfe_government": 409, "dfe_department": 409, "ho_department": 409}
        ),
        per_target=True,
    ),
    ("proposal-submit", "POST"): Case(
        _proposal_path("submit/"),
        author_only(
            {"own_draft": 200, "dfe_government": 409, "dfe_department": 409, "ho_department": 409}
        ),
        per_target=True,
    ),
    ("proposal-resubmit", "POST"): Case(
        _proposal_path("resubmit/"),
        author_only(dict.fromkeys(ALL_SUBMITTED, 409)),
        per_target=True,
    ),
    ("proposal-withdraw", "POST"): Case(
        _proposal_path("withdraw/"),
        author_only(dict.fromkeys(ALL_SUBMITTED, 200)),
        per_target=True,
    ),
    ("proposal-triage", "POST"): Case(
        _proposal_path("triage/"),
        reviewers(200),
        body={"action": "request_info", "message": "How many forms a week?"},
        per_target=True,
    ),
    ("proposal-assess", "POST"): Case(
        # Nobody here has been assigned: 403 for all who can see it.
        _proposal_path("assess/"),
        always(403),
        body={"conflict": False},
        per_target=True,
    ),
    ("proposal-decide", "POST"): Case(
        _proposal_path("decide/"),
        dfe_lead({"dfe_government": 409, "dfe_department": 409}),
        body={"decision": "reject", "rationale": "Not now"},
        per_target=True,
    ),
    ("proposal-merge", "POST"): Case(
        _proposal_path("merge/"),
        dfe_lead({"dfe_government": 400, "dfe_department": 200}),
        body={"into": "DFE-2026-9002"},
        per_target=True,
    ),
    ("proposal-close", "POST"): Case(
        _proposal_path("close/"),
        dfe_lead({"dfe_government": 409, "dfe_department": 409}),
        body={"next_step": "scale"},
        per_target=True,
    ),
    ("proposal-comments", "GET"): Case(_proposal_path("comments/"), always(200), per_target=True),
    ("proposal-comments", "POST"): Case(
        _proposal_path("comments/"),
        # Analysts are read-only (403); a draft takes no comments yet: a state
        # conflict (409), no longer the 403 this table used to expect.
        lambda role, target: 403 if role == "ana" else 409 if target == "own_draft" else 201,
        body={"body": "We tried this in 2024"},
        per_target=True,
    ),
    ("proposal-supports", "GET"): Case(_proposal_path("supports/"), always(200), per_target=True),
    ("proposal-supports", "POST"): Case(
        _proposal_path("supports/"),
        # Not your own proposal, and not an analyst (read-only).
        lambda role, target: (
            403
            if role == "ana" or role == ("bob" if target == "ho_department" else "alice")
            else 201
        ),
        per_target=True,
    ),
    ("proposal-supports", "DELETE"): Case(
        _proposal_path("supports/"), always(200), per_target=True
    ),
    ("proposal-follow", "GET"): Case(_proposal_path("follow/"), always(200), per_target=True),
    ("proposal-follow", "POST"): Case(
        _proposal_path("follow/"),
        # Not its authors (told already), and not an analyst (read-only).
        lambda role, target: (
            403
            if role == "ana" or role == ("bob" if target == "ho_department" else "alice")
            else 201
        ),
        per_target=True,
    ),
    ("proposal-follow", "DELETE"): Case(_proposal_path("follow/"), always(200), per_target=True),
    # --- reference data ---
    ("department-list", "GET"): Case(_fixed("/api/v1/departments/"), always(200)),
    ("department-detail", "GET"): Case(_fixed("/api/v1/departments/dfe/"), always(200)),
    ("department-criteria", "GET"): Case(_fixed("/api/v1/departments/dfe/criteria/"), always(200)),
    # --- the change feed: everyone reads it; what it holds is in test_changes.py ---
    ("changes", "GET"): Case(_fixed("/api/v1/changes/"), always(200)),
    ("theme-list", "GET"): Case(_fixed("/api/v1/themes/"), always(200)),
    ("challenge-list", "GET"): Case(_fixed("/api/v1/challenges/"), always(200)),
    ("challenge-detail", "GET"): Case(_fixed("/api/v1/challenges/paperless-courts/"), always(200)),
    # --- experiments and outcomes (on the DfE department-only proposal) ---
    ("experiment-list", "GET"): Case(_fixed("/api/v1/experiments/"), always(200)),
    ("experiment-detail", "GET"): Case(
        lambda w, t: f"/api/v1/experiments/{w.experiment.pk}/",
        roles(VISIBLE["dfe_department"], 200, 404),
    ),
    # Completed: its lead may not start it again (409); other DfE people may not (403).
    ("experiment-start", "POST"): Case(
        lambda w, t: f"/api/v1/experiments/{w.experiment.pk}/start/",
        lambda role, target: (
            409 if role == "lena" else 403 if role in VISIBLE["dfe_department"] else 404
        ),
    ),
    ("evaluation-list", "GET"): Case(_fixed("/api/v1/evaluations/"), always(200)),
    ("evaluation-detail", "GET"): Case(
        lambda w, t: f"/api/v1/evaluations/{w.evaluation.pk}/",
        roles(VISIBLE["dfe_department"], 200, 404),
    ),
    ("outcome-list", "GET"): Case(_fixed("/api/v1/outcomes/"), always(200)),
    ("outcome-detail", "GET"): Case(
        lambda w, t: f"/api/v1/outcomes/{w.outcome.pk}/",
        roles(VISIBLE["dfe_department"], 200, 404),
    ),
    # --- reports (Lena's) ---
    ("report-list", "GET"): Case(_fixed("/api/v1/reports/"), always(200)),
    ("report-list", "POST"): Case(
        _fixed("/api/v1/reports/"),
        roles({"lena", "ana"}, 201, 403),
        body={"kind": "proposals", "format": "csv"},
    ),
    ("report-detail", "GET"): Case(
        lambda w, t: f"/api/v1/reports/{w.report.pk}/", roles({"lena"}, 200, 404)
    ),
    ("report-download", "GET"): Case(
        # Still queued: 409 for its owner; nobody else can see it.
        lambda w, t: f"/api/v1/reports/{w.report.pk}/download/",
        roles({"lena"}, 409, 404),
    ),
    # --- webhooks (DfE's) ---
    ("webhook-list", "GET"): Case(_fixed("/api/v1/webhooks/"), roles({"lena"}, 200, 403)),
    ("webhook-list", "POST"): Case(
        _fixed("/api/v1/webhooks/"),
        roles({"lena"}, 201, 403),
        body={"url": "https://hooks.example.gov.uk/new", "events": ["proposal.decided"]},
    ),
    ("webhook-deliveries", "GET"): Case(
        lambda w, t: f"/api/v1/webhooks/{w.webhook.pk}/deliveries/", roles({"lena"}, 200, 404)
    ),
    ("webhook-rotate-secret", "POST"): Case(
        lambda w, t: f"/api/v1/webhooks/{w.webhook.pk}/rotate-secret/", roles({"lena"}, 200, 404)
    ),
    ("webhook-retire-previous-secret", "POST"): Case(
        lambda w, t: f"/api/v1/webhooks/{w.webhook.pk}/retire-previous-secret/",
        roles({"lena"}, 200, 404),
    ),
    # --- schema, docs and the JSON 404 for anything else ---
    ("schema", "GET"): Case(_fixed("/api/schema/"), always(200)),
    ("docs", "GET"): Case(_fixed("/api/docs/"), always(200)),
    # Reference documentation, like the schema: open to everyone, no data.
    ("data-dictionary", "GET"): Case(_fixed("/api/data-dictionary/"), always(200)),
    ("not-found", "GET"): Case(_fixed("/api/v1/no-such-thing/"), always(404)),
}


def api_endpoints() -> set[tuple[str, str]]:
    """(route name, method) for every pattern under /api/, from the URL list itself."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                actions = getattr(pattern.callback, "actions", None)
                # HEAD is answered as GET without a body: not an endpoint of its own.
                methods = [m.upper() for m in actions if m != "head"] if actions else ["GET"]
                found.update((str(pattern.name), method) for method in methods)

    walk(api_urls.urlpatterns)
    return found


def test_every_endpoint_has_access_cases() -> None:
    assert api_endpoints() == set(CASES)


def _params() -> list[Any]:
    params = []
    for (name, method), case in sorted(CASES.items()):
        targets = TARGETS if case.per_target else (None,)
        for target in targets:
            for role in ROLES:
                params.append(
                    pytest.param(name, method, target, role, id=f"{name}-{method}-{target}-{role}")
                )
    return params


@pytest.fixture
def world(alice, amir, rita, lena, bob, hugo, ana) -> World:
    users = {
        "alice": alice,
        "amir": amir,
        "rita": rita,
        "lena": lena,
        "bob": bob,
        "hugo": hugo,
        "ana": ana,
    }
    return build_world(users)


def _snapshot(proposal: Proposal) -> tuple[Any, ...]:
    fresh = (
        Proposal.objects.filter(pk=proposal.pk).values_list("version", "status", "title").first()
    )
    return (
        fresh,
        Comment.objects.filter(proposal_id=proposal.pk).count(),
        Support.objects.filter(proposal_id=proposal.pk).count(),
        Follow.objects.filter(proposal_id=proposal.pk).count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "target", "role"), _params())
def test_endpoint_access(client_for, world: World, name, method, target, role) -> None:
    case = CASES[(name, method)]
    client = client_for(world.users[role])
    visible = target is None or role in VISIBLE[target]
    expected = case.expect(role, target) if visible else 404
    before = _snapshot(world.proposals[target]) if target else None

    response = getattr(client, method.lower())(case.path(world, target), case.body, format="json")

    assert response.status_code == expected, response.content
    if expected == 204:
        return
    assert response["Content-Type"].startswith(
        "text/html"
        if name in {"docs", "data-dictionary"}  # pages unless JSON is asked for
        else ("application/vnd.oai" if name == "schema" else "application/json")
    )
    if response.status_code >= 400:
        assert {"detail", "code"} <= set(response.json()) <= {"detail", "errors", "code"}
        assert response.json()["detail"]
    if target is not None and not visible:
        assert _snapshot(world.proposals[target]) == before
