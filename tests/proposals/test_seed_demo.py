"""seed_demo: every state present, idempotent, the demo accounts sign in."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from accounts.models import User
from proposals.enums import Status
from proposals.models import AuditEvent, Comment, Notification, Outcome, Proposal, Score

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
    from django.core.exceptions import ImproperlyConfigured

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
