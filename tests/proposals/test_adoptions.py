"""Adoption shown both ways: the lesson and the original say who adopted them,
the copy says where it came from, and the portfolio counts them; only what the
viewer may see is counted (SPEC §1), on SQLite and PostgreSQL alike, in a
fixed number of queries however many adoptions."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Department, Role, User
from proposals import dashboards, selectors, services
from proposals import portfolio as figures
from proposals.enums import Visibility
from proposals.models import Outcome, Proposal
from tests.factories import UserFactory
from tests.proposals.review_world import approved, assess, planned, with_outcome

pytestmark = pytest.mark.django_db


def _person(slug: str, name: str, role: str = Role.SUBMITTER) -> User:
    return UserFactory.create(
        email=f"{name}@{slug}.example",
        full_name=name.capitalize(),
        department=Department.objects.get(slug=slug),
        role=role,
    )


@pytest.fixture
def lesson(alice, rita, lena) -> Outcome:
    """DfE's published lesson, on a government-visible proposal."""
    original = approved(alice, rita, lena, title="OCR pilot")
    outcome = with_outcome(planned(original, lena, title="OCR in two offices"), lena)
    return Outcome.objects.get(pk=outcome.pk)


def adopt(outcome: Outcome, user: User, *, submit: bool = True, **changes) -> Proposal:
    copy = services.proposal_adopt(outcome=outcome, actor=user)
    if changes:
        Proposal.objects.filter(pk=copy.pk).update(**changes)
    if submit:
        copy = services.proposal_transition(
            proposal=Proposal.objects.get(pk=copy.pk), actor=user, action="submit"
        )
    return copy


def tried(copy: Proposal, reviewer: User, lead: User, *, result: str, publish: bool) -> Outcome:
    """The adopting department runs its own experiment to an outcome."""
    copy = services.proposal_transition(
        proposal=copy, actor=reviewer, action="accept", data={"assessors": [reviewer.pk]}
    )
    assess(copy, reviewer, 4)
    copy = services.proposal_transition(
        proposal=copy, actor=lead, action="approve", data={"rationale": "Try it here"}
    )
    outcome = with_outcome(
        planned(copy, lead, title="Our own pilot"), lead, result=result, publish=publish
    )
    return Outcome.objects.get(pk=outcome.pk)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(user: User, url: str) -> str:
    response = _client(user).get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _text(page: str) -> str:
    inline = re.sub(r"</?(a|strong|span)\b[^>]*>", "", page)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inline))


def _queries(user: User, url: str) -> int:
    client = _client(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


# --- the selector: an adoption is seen with its adopting proposal ---------------------------


def test_adoptions_are_seen_with_the_adopting_proposal_across_departments(
    lesson, alice, lena, bob, hugo, ana
):
    drafted = adopt(lesson, bob, submit=False)
    shared = adopt(lesson, _person("dwp", "dora"))
    kept = adopt(lesson, _person("mod", "mo"), visibility=Visibility.DEPARTMENT)
    mod_colleague = _person("mod", "max")

    def seen(user) -> set[str]:
        return set(
            selectors.adoptions_visible_to(user).values_list("proposal__reference", flat=True)
        )

    # A draft is its author's alone: not their own department's reviewer, not the lesson's owners.
    assert seen(bob) == {drafted.reference, shared.reference}
    assert seen(hugo) == {shared.reference}
    # Department-only work stays in its department; analysts never see it.
    assert seen(alice) == seen(lena) == seen(ana) == {shared.reference}
    assert seen(mod_colleague) == {shared.reference, kept.reference}
    assert not selectors.adoptions_visible_to(
        User(is_active=False, department=bob.department)
    ).exists()


def test_met_target_is_the_adopting_proposals_own_outcome_as_the_viewer_may_read_it(
    lesson, alice, bob, hugo, ana
):
    lead = _person("home-office", "holly", Role.LEAD)
    copy = adopt(lesson, bob)
    # Met, but not yet published: only the Home Office panel may read it.
    tried(copy, hugo, lead, result="met", publish=False)

    assert dashboards.adoptions_of_lesson(hugo, lesson).met == 1
    assert dashboards.adoptions_of_lesson(bob, lesson).met == 0
    assert dashboards.adoptions_of_lesson(alice, lesson).met == 0
    # The lesson itself did not meet its target: it is the copy's result that counts.
    assert lesson.result == "not_met"

    services.outcome_publish(outcome=Outcome.objects.get(experiment__proposal=copy), actor=lead)
    for viewer in (bob, alice, ana):
        adopted = dashboards.adoptions_of_lesson(viewer, lesson)
        assert (adopted.departments, adopted.met) == (1, 1), viewer


def test_departments_are_counted_once_however_many_of_their_proposals_adopt(lesson, bob, hugo):
    lead = _person("home-office", "holly", Role.LEAD)
    tried(adopt(lesson, bob), hugo, lead, result="met", publish=True)
    adopt(lesson, hugo)
    adopt(lesson, _person("dwp", "dora"))

    adopted = dashboards.adoptions_of_lesson(bob, lesson)
    assert (adopted.departments, adopted.met, len(adopted.adoptions)) == (2, 1, 3)
    assert dashboards.adoption_counts(bob, [lesson])[lesson.pk] == dashboards.Adopted(
        departments=2, met=1
    )


# --- the pages ---------------------------------------------------------------------------------


def test_the_lesson_and_the_original_list_only_the_adoptions_the_viewer_may_see(
    lesson, alice, bob, hugo
):
    lead = _person("home-office", "holly", Role.LEAD)
    met = adopt(lesson, bob)
    tried(met, hugo, lead, result="met", publish=True)
    hidden = adopt(lesson, _person("mod", "mo"), visibility=Visibility.DEPARTMENT)
    adopt(lesson, _person("dwp", "dora"))
    drafted = adopt(lesson, alice, submit=False)
    original = lesson.experiment.proposal

    for url in (f"/lessons/{lesson.pk}/", f"/proposals/{original.reference}/"):
        page = _page(bob, url)
        assert "Adopted by 2 departments: 1 met their target" in _text(page), url
        assert f'href="/proposals/{met.reference}/"' in page
        assert hidden.reference not in page
        assert drafted.reference not in page
    # The draft's author sees their own draft among them.
    page = _page(alice, f"/lessons/{lesson.pk}/")
    assert "Adopted by 3 departments: 1 met their target" in _text(page)
    assert drafted.reference in page

    listing = _text(_page(bob, "/lessons/"))
    assert "Adopted by 2 departments: 1 met their target" in listing


def test_a_lesson_nobody_adopted_says_so(lesson, bob):
    assert "No department has adopted this lesson yet." in _page(bob, f"/lessons/{lesson.pk}/")
    assert "Adopted by No department yet" in _text(_page(bob, "/lessons/"))
    page = _page(bob, f"/proposals/{lesson.experiment.proposal.reference}/")
    assert "Adopted elsewhere" not in page


def test_the_copy_links_to_the_original_and_its_lesson(lesson, bob):
    copy = adopt(lesson, bob, submit=False)
    original = lesson.experiment.proposal

    page = _page(bob, f"/proposals/{copy.reference}/")

    assert f"Adopted from {original.reference}: {original.title}" in _text(page)
    assert f'href="/proposals/{original.reference}/"' in page
    assert f'href="/lessons/{lesson.pk}/"' in page


def test_a_copy_whose_original_the_viewer_cannot_see_names_no_reference(lesson, bob, amir):
    copy = adopt(lesson, bob)
    original = lesson.experiment.proposal
    Proposal.objects.filter(pk=original.pk).update(visibility=Visibility.DEPARTMENT)
    colleague = _person("home-office", "hana")

    page = _page(colleague, f"/proposals/{copy.reference}/")
    block = re.search(r"<div[^>]*data-adopted-from[^>]*>(.*?)</div>", page, re.S)

    assert block is not None
    assert "another department’s published lesson, which you cannot see" in block.group(1)
    assert original.reference not in block.group(1)
    assert f"/lessons/{lesson.pk}/" not in page
    # Its own department still sees where it came from.
    assert f"Adopted from {original.reference}" in _text(
        _page(amir, f"/proposals/{copy.reference}/")
    )


def test_the_pages_run_a_fixed_number_of_queries_however_many_adoptions(lesson, alice, bob, hugo):
    lead = _person("home-office", "holly", Role.LEAD)
    tried(adopt(lesson, bob), hugo, lead, result="met", publish=True)
    copy = Proposal.objects.get(adoption__isnull=False)
    original = lesson.experiment.proposal
    urls = [
        f"/proposals/{original.reference}/",
        f"/proposals/{copy.reference}/",
        f"/lessons/{lesson.pk}/",
        "/lessons/",
    ]
    one = {url: _queries(alice, url) for url in urls}
    for n, slug in enumerate(["dwp", "mod", "moj", "home-office"]):
        adopt(lesson, _person(slug, f"adopter{n}"))
    five = {url: _queries(alice, url) for url in urls}

    assert dashboards.adoptions_of_lesson(alice, lesson).departments >= 4
    assert five == one


# --- the portfolio -----------------------------------------------------------------------------


def test_the_portfolio_counts_proposals_adopted_from_other_departments(
    settings, lesson, alice, lena, bob, hugo, ana
):
    settings.PORTFOLIO_CACHE_SECONDS = 0
    home_lead = _person("home-office", "holly", Role.LEAD)
    tried(adopt(lesson, bob), hugo, home_lead, result="met", publish=True)
    reviewer = _person("home-office", "rhys", Role.REVIEWER)
    tried(adopt(lesson, hugo), reviewer, home_lead, result="met", publish=False)
    adopt(lesson, bob, submit=False)  # a draft: not in any portfolio
    # DfE adopting its own lesson is not "from another department".
    adopt(lesson, alice)

    home = figures.portfolio(home_lead)
    assert (home.adopted, home.adopted_met) == (2, 2)
    assert home.adoptions_by_department == [
        {"name": "Home Office", "adopted": 2, "met": 2},
    ]
    # An analyst counts published outcomes only.
    everyone = figures.portfolio(ana)
    assert (everyone.adopted, everyone.adopted_met) == (2, 1)
    assert (figures.portfolio(lena).adopted, figures.portfolio(lena).adopted_met) == (0, 0)

    page = _text(_page(home_lead, "/portfolio/"))
    assert "Adoptions: 2 proposals adopted from other departments, 2 met their target" in page
    assert "Proposals adopted from other departments: the data" in page
    assert "Home Office 2 2" in page
    chart = _client(home_lead).get("/portfolio/charts/adoptions.svg")
    assert chart.status_code == 200
    assert "Met their target" in chart.content.decode()


def test_the_portfolio_runs_a_fixed_number_of_queries_however_many_adoptions(
    settings, lesson, bob, hugo, ana
):
    settings.PORTFOLIO_CACHE_SECONDS = 0
    home_lead = _person("home-office", "holly", Role.LEAD)
    tried(adopt(lesson, bob), hugo, home_lead, result="met", publish=True)
    one = (_queries(home_lead, "/portfolio/"), _queries(ana, "/portfolio/"))
    for n in range(4):
        adopt(lesson, _person("home-office", f"adopter{n}"))
    five = (_queries(home_lead, "/portfolio/"), _queries(ana, "/portfolio/"))

    assert figures.portfolio(home_lead).adopted == 5
    assert five == one
