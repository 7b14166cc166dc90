"""seed_demo: every state present, idempotent, the demo accounts sign in."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from accounts.models import Department, User
from proposals.enums import Status
from proposals.models import (
    Assessment,
    AuditEvent,
    Challenge,
    Comment,
    Criterion,
    Experiment,
    Notification,
    Outcome,
    Proposal,
    Score,
    Theme,
)
from tests.factories import ProposalFactory

DEMO = [
    ("submitter@dfe.example", "dfe", "submitter"),
    ("reviewer@dfe.example", "dfe", "reviewer"),
    ("lead@dfe.example", "dfe", "lead"),
    ("submitter@homeoffice.example", "home-office", "submitter"),
    ("reviewer@homeoffice.example", "home-office", "reviewer"),
    ("analyst@gds.example", "gds", "analyst"),
    ("assessor@dfe.example", "dfe", "reviewer"),
]


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Proposal, AuditEvent, Score, Outcome, Comment)
    }


@pytest.mark.django_db
def test_seed_demo_twice_leaves_the_same_counts(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=150)
    first = _counts()
    call_command("seed_demo", proposals=150)
    assert _counts() == first
    assert first["Proposal"] == 150


@pytest.mark.django_db
def test_seed_demo_covers_every_state_and_sends_nothing(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=120)
    statuses = set(Proposal.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    assert Notification.objects.count() == 0
    mine = Proposal.objects.filter(submitter__email="submitter@dfe.example")
    assert set(mine.values_list("status", flat=True)) == set(Status.values)
    merged = Proposal.objects.filter(status=Status.MERGED)
    assert all(p.merged_into_id for p in merged)
    assert Outcome.objects.filter(published=True, result="not_met").exists()


@pytest.mark.django_db
def test_demo_accounts_exist_with_their_roles_and_sign_in(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=20)
    for email, department, role in DEMO:
        user = User.objects.get(email=email)
        assert (user.department.slug, user.role) == (department, role)
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=email, password="innovate-demo") == user


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug_or_a_password(settings, reference_data):
    settings.DEBUG = False
    settings.DEMO_PASSWORD = None
    with pytest.raises(ImproperlyConfigured):
        call_command("seed_demo", proposals=1)


@pytest.mark.django_db
def test_seed_demo_tops_up_to_a_larger_size(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=60)
    call_command("seed_demo", proposals=130)
    assert Proposal.objects.count() == 130
    assert Proposal.objects.values("reference").distinct().count() == 130


# --- any department configuration, and all or nothing ---------------------------------------


def _everything() -> dict[str, int]:
    return _counts() | {m.__name__: m.objects.count() for m in (Challenge, Assessment, Experiment)}


@pytest.mark.django_db
def test_seed_demo_works_when_a_department_has_no_criteria(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    Criterion.objects.filter(department__slug="dfe").delete()
    Criterion.objects.filter(department__slug="home-office").update(active=False)

    call_command("seed_demo", proposals=150)

    assert Proposal.objects.count() == 150
    assert not Score.objects.filter(assessment__proposal__department__slug="dfe").exists()
    assert not Score.objects.filter(assessment__proposal__department__slug="home-office").exists()
    # Departments with criteria are still scored as before.
    assert Assessment.objects.exclude(weighted_score=None).exists() == Score.objects.exists()
    assert set(Proposal.objects.values_list("status", flat=True)) == set(Status.values)


@pytest.mark.django_db
def test_seed_demo_works_with_no_criteria_no_themes_and_a_department_of_nobody(
    settings, reference_data
):
    settings.DEMO_PASSWORD = "innovate-demo"
    Criterion.objects.all().delete()
    Theme.objects.all().delete()
    call_command("seed_demo", proposals=20)
    # Every seeded colleague of one department leaves: it has no one to propose.
    User.objects.filter(department__slug="dcms").update(is_active=False)
    dcms_before = Proposal.objects.filter(department__slug="dcms").count()
    # And a new body, without an email domain yet, has no one at all.
    Department.objects.create(slug="new-body", name="A new body", email_domain="")

    call_command("seed_demo", proposals=200)

    assert Proposal.objects.count() == 200
    assert Score.objects.count() == 0
    assert not Proposal.objects.filter(themes__isnull=False).exists()
    assert Proposal.objects.filter(department__slug="dcms").count() == dcms_before
    assert not User.objects.filter(department__slug="new-body").exists()


@pytest.mark.django_db
def test_seed_demo_without_a_demo_department_says_so_and_writes_nothing(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    Department.objects.filter(slug="gds").delete()
    before = _everything()

    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", proposals=50)

    assert str(refused.value) == (
        "seed_demo needs the departments dfe, home-office and gds for the demo accounts "
        "(the accounts migrations load them from accounts/data/departments.csv); "
        "missing: gds. Nothing was written."
    )
    assert _everything() == before


@pytest.mark.django_db
def test_seed_demo_that_fails_part_way_writes_nothing(settings, reference_data):
    """References already taken (their sequence lost): the bulk write fails after the
    accounts, people and challenges were added, and all of it is undone."""
    settings.DEMO_PASSWORD = "innovate-demo"
    dfe = Department.objects.get(slug="dfe")
    author = User.objects.create_user(
        "taken@dfe.example", "x", full_name="Tess Taken", department=dfe
    )
    for year in (2024, 2025, 2026, 2027):
        for n in range(1, 40):
            ProposalFactory.create(
                department=dfe, submitter=author, reference=f"DFE-{year}-{n:04d}"
            )
    before = _everything()

    with pytest.raises(CommandError) as failed:
        call_command("seed_demo", proposals=400)

    assert str(failed.value).startswith(
        "seed_demo could not write the demo data, so it wrote nothing:"
    )
    assert _everything() == before
