"""factory_boy factories for the domain. Proposals are created as rows in a
given state (like the seed); tests of behaviour drive the services instead."""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import Department, User
from proposals.enums import Status, Visibility
from proposals.models import Proposal


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@dfe.example")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    department = factory.LazyFunction(lambda: Department.objects.get(slug="dfe"))
    password = factory.django.Password("correct horse battery staple")


class ProposalFactory(factory.django.DjangoModelFactory[Proposal]):
    class Meta:
        model = Proposal

    reference = factory.Sequence(lambda n: f"TEST-2026-{n:04d}")
    title = factory.Sequence(lambda n: f"Proposal {n}")
    summary = "A short summary"
    problem = "Forms are retyped by hand"
    who_has_the_problem = "Caseworkers"
    proposed_solution = "Read the forms automatically"
    expected_benefits = "Hours saved"
    submitter = factory.SubFactory(UserFactory)
    department = factory.LazyAttribute(lambda o: o.submitter.department)
    visibility = Visibility.GOVERNMENT
    status = Status.SUBMITTED
    submitted_at = factory.LazyAttribute(
        lambda o: None if o.status == Status.DRAFT else timezone.now()
    )
