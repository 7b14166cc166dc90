"""The list endpoints: visibility of every row, filters, cursors, page sizes,
the settling lag, and a query count that does not grow with the page."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Department
from proposals.enums import Status, Visibility
from proposals.models import Proposal, Theme
from tests.api.world import ROLES, VISIBLE, World, build_world
from tests.factories import ProposalFactory


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


def references(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()["results"]]


def visible_references(world: World, role: str) -> set[str]:
    return {p.reference for target, p in world.proposals.items() if role in VISIBLE[target]}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_proposal_list_and_search_show_exactly_the_visible_rows(client_for, world, role) -> None:
    client = client_for(world.users[role])
    expected = visible_references(world, role)

    listed = references(client.get("/api/v1/proposals/"))
    searched = references(client.get("/api/v1/proposals/", {"search": "forms"}))
    by_theme = references(client.get("/api/v1/proposals/", {"theme": "automation"}))
    by_department = references(client.get("/api/v1/proposals/", {"department": "home-office"}))

    assert set(listed) == expected
    assert set(searched) == expected
    assert set(by_theme) == expected
    assert set(by_department) == {r for r in expected if r.startswith("HO-")}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_experiment_and_outcome_lists_show_only_visible_proposals(client_for, world, role) -> None:
    client = client_for(world.users[role])
    sees = role in VISIBLE["dfe_department"]

    experiments = client.get("/api/v1/experiments/").json()["results"]
    outcomes = client.get("/api/v1/outcomes/").json()["results"]

    assert [e["proposal"] for e in experiments] == (["DFE-2026-9003"] if sees else [])
    assert [o["proposal"] for o in outcomes] == (["DFE-2026-9003"] if sees else [])


@pytest.mark.django_db
def test_outcome_rows_carry_metric_actuals(client_for, world) -> None:
    row = client_for(world.users["amir"]).get("/api/v1/outcomes/").json()["results"][0]

    assert row["metric_actuals"] == [
        {
            "metric": world.experiment.metrics.get().pk,
            "name": "Hours retyping",
            "unit": "hours a week",
            "baseline": "40.00",
            "target": "32.00",
            "direction": "decrease",
            "actual": "30.00",
        }
    ]
    assert row["result"] == "met"
    assert row["published"] is True


@pytest.mark.django_db
def test_proposal_list_filters_by_status_and_updated_after(client_for, world) -> None:
    client = client_for(world.users["alice"])
    cut = timezone.now()
    Proposal.objects.filter(reference="DFE-2026-9003").update(
        updated_at=cut + dt.timedelta(seconds=-1)
    )
    Proposal.objects.filter(reference="DFE-2026-9002").update(
        updated_at=cut - dt.timedelta(hours=1)
    )
    after = (cut - dt.timedelta(minutes=1)).isoformat()

    drafts = references(client.get("/api/v1/proposals/", {"status": "draft"}))
    recent = references(client.get("/api/v1/proposals/", {"updated_after": after}))

    assert drafts == ["DFE-2026-9001"]
    assert "DFE-2026-9002" not in recent
    assert "DFE-2026-9003" in recent


@pytest.mark.django_db
def test_updated_after_is_exclusive_and_accepts_an_unencoded_plus(client_for, world) -> None:
    client = client_for(world.users["alice"])
    stamp = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    Proposal.objects.filter(reference="DFE-2026-9002").update(updated_at=stamp)
    # "+00:00" sent without encoding arrives as " 00:00".
    raw = stamp.astimezone(dt.UTC).isoformat().replace("+", " ")

    response = client.get(f"/api/v1/proposals/?updated_after={raw}")

    assert "DFE-2026-9002" not in references(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"updated_after": "yesterday"}, "updated_after"),
        ({"updated_after": "2026-13-45T99:00:00Z"}, "updated_after"),
        ({"page_size": "501"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": "9" * 40}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJkIjoibiJ9"}, "cursor"),  # valid base64 JSON, missing keys
        ({"department": "not a slug!"}, "department"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_proposal_list_rejects_bad_parameters_with_400(client_for, world, params, field) -> None:
    response = client_for(world.users["alice"]).get("/api/v1/proposals/", params)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"].startswith(field)


@pytest.mark.django_db
def test_proposal_list_ignores_unknown_parameters(client_for, world) -> None:
    response = client_for(world.users["alice"]).get("/api/v1/proposals/", {"colour": "blue"})

    assert set(references(response)) == visible_references(world, "alice")


@pytest.mark.django_db
def test_cursor_pages_walk_every_row_once_forward_and_back(client_for, alice) -> None:
    base = timezone.now() - dt.timedelta(hours=1)
    rows = [
        Proposal(
            reference=f"DFE-2026-{n:04d}",
            title=f"Idea {n}",
            submitter=alice,
            department=alice.department,
            status=Status.SUBMITTED,
            # Pairs share a timestamp, so the id breaks ties.
            updated_at=base + dt.timedelta(seconds=n // 2),
        )
        for n in range(1, 26)
    ]
    Proposal.objects.bulk_create(rows)
    client = client_for(alice)

    seen, url, pages = [], "/api/v1/proposals/?page_size=7", []
    while url:
        body = client.get(url).json()
        pages.append(body)
        seen += [r["reference"] for r in body["results"]]
        url = body["next"]
    back = client.get(pages[-1]["previous"]).json()

    expected = [p.reference for p in sorted(rows, key=lambda p: (p.updated_at, str(p.id)))]
    assert seen == expected
    assert len(pages) == 4
    assert pages[0]["previous"] is None
    assert [r["reference"] for r in back["results"]] == expected[14:21]


@pytest.mark.django_db
def test_cursor_stays_put_when_rows_change_while_paging(client_for, alice) -> None:
    base = timezone.now() - dt.timedelta(hours=1)
    rows = [
        ProposalFactory.create(submitter=alice, reference=f"DFE-2026-{n:04d}") for n in range(1, 11)
    ]
    for n, row in enumerate(rows):
        Proposal.objects.filter(pk=row.pk).update(updated_at=base + dt.timedelta(seconds=n))
    client = client_for(alice)
    first = client.get("/api/v1/proposals/?page_size=4").json()
    # Rows already seen and rows not yet seen change between pages.
    Proposal.objects.filter(reference__in=["DFE-2026-0002", "DFE-2026-0007"]).update(
        updated_at=timezone.now() - dt.timedelta(minutes=1)
    )

    seen = [r["reference"] for r in first["results"]]
    url = first["next"]
    while url:
        body = client.get(url).json()
        seen += [r["reference"] for r in body["results"]]
        url = body["next"]

    # Nothing skipped; the changed rows come again at the end, newest last.
    assert set(seen) == {r.reference for r in rows}
    assert set(seen[-2:]) == {"DFE-2026-0002", "DFE-2026-0007"}
    assert len(seen) == 11  # 0002 twice: seen before and after its change


@pytest.mark.django_db
def test_list_holds_back_rows_younger_than_the_settling_lag(client_for, settings, alice) -> None:
    settings.API_SETTLING_LAG_SECONDS = 30
    old = ProposalFactory.create(submitter=alice, reference="DFE-2026-0001")
    Proposal.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=1))
    ProposalFactory.create(submitter=alice, reference="DFE-2026-0002")  # changed just now

    listed = references(client_for(alice).get("/api/v1/proposals/"))

    assert listed == ["DFE-2026-0001"]


def _bulk_proposals(alice, bob, count: int) -> None:
    theme = Theme.objects.get_or_create(slug="ai", defaults={"name": "AI"})[0]
    home_office = Department.objects.get(slug="home-office")
    base = timezone.now() - dt.timedelta(hours=2)
    rows = [
        Proposal(
            id=uuid.uuid4(),
            reference=f"DFE-2025-{n:05d}",
            title=f"Idea {n}",
            submitter=alice if n % 3 else bob,
            department=alice.department if n % 3 else home_office,
            visibility=Visibility.GOVERNMENT,
            status=Status.SUBMITTED,
            updated_at=base + dt.timedelta(milliseconds=n),
        )
        for n in range(count)
    ]
    Proposal.objects.bulk_create(rows)
    Proposal.themes.through.objects.bulk_create(
        Proposal.themes.through(proposal_id=p.pk, theme_id=theme.pk) for p in rows
    )
    Proposal.collaborating_departments.through.objects.bulk_create(
        Proposal.collaborating_departments.through(proposal_id=p.pk, department_id=home_office.pk)
        for p in rows[::2]
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/proposals/", "/api/v1/experiments/", "/api/v1/outcomes/"]
)
def test_list_query_count_does_not_grow_with_page_size(
    client_for, settings, alice, bob, path
) -> None:
    _bulk_proposals(alice, bob, 600)
    client = client_for(alice)
    client.get(path)  # the token's last_used_at is written once a minute: not counted

    with CaptureQueriesContext(connection) as small:
        assert client.get(path, {"page_size": 10}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        response = client.get(path, {"page_size": 500})

    assert response.status_code == 200
    assert len(small) == len(large)
    if path == "/api/v1/proposals/":
        assert len(response.json()["results"]) == 500
        # The token, then the page with its slugs (PostgreSQL: one query with
        # array subqueries; elsewhere the page, its themes, its departments).
        assert len(large) == (2 if settings.IS_POSTGRES else 4)
