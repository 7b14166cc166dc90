"""Writes for the review pages that combine the existing services (issue 4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from proposals.models import Proposal
from proposals.services import InvalidTransition, proposal_transition

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def proposals_accept_many(
    *, proposals: Sequence[Proposal], actor: User, assessor_ids: Sequence[int]
) -> list[Proposal]:
    """Accept several proposals for review with the same assessors: all or none.

    Each goes through `proposal_transition` (row lock, checks, audit,
    notifications). If any of them was triaged by someone else meanwhile, its
    InvalidTransition rolls back the whole batch, so a person never ends up
    with half of what they chose applied without noticing.
    """
    if not proposals:
        raise InvalidTransition("Select at least one proposal to accept")
    accepted = []
    for proposal in sorted(proposals, key=lambda p: p.reference):
        accepted.append(
            proposal_transition(
                proposal=proposal,
                actor=actor,
                action="accept",
                data={"assessors": list(assessor_ids)},
            )
        )
    return accepted
