"""Proposals: drafts, edits, every change of status (through the workflow table), deletion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Department, User
from proposals import dispatch, messages, workflow
from proposals import permissions as perms
from proposals.enums import (
    AuditAudience,
    DecisionKind,
    Status,
    WebhookEvent,
)
from proposals.exceptions import ActionNotAllowed, InvalidTransition, StaleVersion
from proposals.models import (
    Assessment,
    Assignment,
    Decision,
    Proposal,
    ReferenceSequence,
)
from proposals.notifications import send
from proposals.services.base import audit, enforce, lock_proposal
from proposals.services.follows import followers_told_of_status
from proposals.services.webhooks import emit_webhook
from proposals.workflow import TRANSITIONS

# The answers an author may write; everything else (status, reference,
# department, owner, scores) is only ever changed by a service's own rules.
EDITABLE_FIELDS = (
    "title",
    "summary",
    "problem",
    "who_has_the_problem",
    "proposed_solution",
    "expected_benefits",
    "cost_band",
    "estimated_benefit_gbp",
    "hours_saved_per_year",
    "visibility",
    "challenge",
)
EDITABLE_RELATIONS = ("themes", "collaborating_departments", "co_authors")
_ATTNAMES = {f.name: f.attname for f in Proposal._meta.concrete_fields}


# --- references ---------------------------------------------------------------------


def next_reference(*, department: Department, year: int) -> str:
    """DFE-2026-0042: the department's prefix, the year, a per-year sequence.

    The sequence row is locked for the rest of the caller's transaction, so two
    drafts created at once never share a number.
    """
    ReferenceSequence.objects.bulk_create(
        [ReferenceSequence(department=department, year=year, last_number=0)],
        ignore_conflicts=True,
    )
    sequence = ReferenceSequence.objects.select_for_update().get(department=department, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{department.reference_prefix}-{year}-{sequence.last_number:04d}"


# --- proposals ------------------------------------------------------------------------


def _set_relations(proposal: Proposal, data: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for name in EDITABLE_RELATIONS:
        if name not in data:
            continue
        manager = getattr(proposal, name)
        before = sorted(str(pk) for pk in manager.values_list("pk", flat=True))
        values = list(data[name] or [])
        if name == "co_authors":
            values = [user for user in values if getattr(user, "pk", user) != proposal.submitter_id]
        if name == "collaborating_departments":
            values = [d for d in values if getattr(d, "pk", d) != proposal.department_id]
        manager.set(values)
        after = sorted(str(pk) for pk in manager.values_list("pk", flat=True))
        if before != after:
            changes[name] = (before, after)
    return changes


def _tell_new_co_authors(
    proposal: Proposal, actor: User, changes: Mapping[str, tuple[Any, Any]]
) -> None:
    """Whoever becomes a co-author hears so, once: in the edit's own transaction."""
    if "co_authors" not in changes:
        return
    before, after = changes["co_authors"]
    added = list(User.objects.filter(pk__in=set(after) - set(before)).order_by("email"))
    if added:
        send(messages.co_authors_added(proposal, actor=actor, added=added))


def _validate_answers(proposal: Proposal) -> None:
    """Model-level checks (lengths, choices) with the field names as keys."""
    proposal.full_clean(exclude=["reference", "submitter", "department", "search_vector"])
    if proposal.challenge_id and proposal._state.adding and not proposal.challenge.is_open:  # type: ignore[union-attr]
        raise ValidationError({"challenge": ["This challenge has closed to new proposals"]})


@transaction.atomic
def proposal_create_draft(
    *,
    author: User,
    data: Mapping[str, Any],
    previous: Proposal | None = None,
) -> Proposal:
    """A new draft in the author's department, with its reference given now."""
    if not perms.can_propose(author):
        raise ActionNotAllowed("Analysts read proposals; they do not propose them")
    now = timezone.now()
    proposal = Proposal(
        submitter=author,
        department=author.department,
        status=Status.DRAFT,
        previous=previous,
        created_at=now,
        updated_at=now,
    )
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(proposal, name, data[name])
    _validate_answers(proposal)
    proposal.reference = next_reference(department=author.department, year=now.year)
    proposal.save()
    _tell_new_co_authors(proposal, author, _set_relations(proposal, data))
    audit(
        actor=author,
        action="create",
        obj=proposal,
        proposal=proposal,
        changes={"status": (None, Status.DRAFT)}
        | ({"previous": (None, previous.reference)} if previous else {}),
        audience=AuditAudience.AUTHORS,
    )
    return proposal


@transaction.atomic
def proposal_update(
    *,
    proposal: Proposal,
    actor: User,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Proposal:
    """Edit the answers while the status allows it; audits each changed field."""
    locked = lock_proposal(proposal)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion("This proposal was changed by someone else since you loaded it")
    enforce(actor, "edit", locked)
    if "challenge" in data:
        closed = workflow.challenge_errors(data["challenge"], locked.challenge_id)
        if closed:
            raise ValidationError(closed)
    changes: dict[str, tuple[Any, Any]] = {}
    for name in EDITABLE_FIELDS:
        if name not in data:
            continue
        attname = _ATTNAMES[name]
        before = getattr(locked, attname)
        setattr(locked, name, data[name])
        after = getattr(locked, attname)
        if before != after:
            changes[name] = (before, after)
    _validate_answers(locked)
    changes |= _set_relations(locked, data)
    if not changes:
        return locked
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save()
    if locked.status != Status.DRAFT:
        dispatch.index_similarity_on_commit(locked.pk)
    audit(
        actor=actor,
        action="edit",
        obj=locked,
        proposal=locked,
        changes=changes,
        audience=AuditAudience.EVERYONE if locked.status != Status.DRAFT else AuditAudience.AUTHORS,
    )
    _tell_new_co_authors(locked, actor, changes)
    return locked


@transaction.atomic
def proposal_transition(
    *,
    proposal: Proposal,
    actor: User,
    action: str,
    data: Mapping[str, Any] | None = None,
) -> Proposal:
    """The one way a proposal changes state (SPEC §2).

    Locks the row, so that of two reviewers acting on the same proposal at once
    the second sees the state the first left and is refused, not silently
    overwritten. Then checks permission, source state and requirements from the
    transition table; applies the change; writes the audit event, decision,
    notifications and webhook deliveries in the same transaction.
    """
    data = dict(data or {})
    try:
        transition = TRANSITIONS[action]
    except KeyError:
        raise ValidationError({"action": [f"Unknown action {action!r}"]}) from None
    locked = lock_proposal(proposal)
    if not transition.allowed(actor, locked):
        raise ActionNotAllowed(f"You cannot {transition.label.lower()} this proposal")
    if locked.status not in transition.sources:
        raise InvalidTransition(
            f"{locked.reference} is {locked.get_status_display().lower()}, so it cannot be "
            f"changed with “{transition.label}”. Someone may have acted on it already."
        )
    errors = transition.requires(locked, data)
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    before = locked.status
    changes: dict[str, tuple[Any, Any]] = {"status": (before, transition.target)}
    locked.status = transition.target
    for stamp in transition.timestamps:
        changes[stamp] = (getattr(locked, stamp), now)
        setattr(locked, stamp, now)
    # Effects may leave audit events of their own (e.g. each assignment) to be
    # written after the transition's, so the timeline reads in order.
    followups: list[Callable[[], object]] = []
    data["_followups"] = followups
    effect = _EFFECTS.get(action)
    if effect is not None:
        changes |= effect(locked, actor, data, now)
    locked.version += 1
    locked.updated_at = now
    fields = {f.name for f in Proposal._meta.concrete_fields}
    locked.save(update_fields={"status", "version", "updated_at", *(changes.keys() & fields)})
    audit(
        actor=actor,
        action=action,
        obj=locked,
        proposal=locked,
        changes=changes,
        audience=transition.audience,
    )
    for followup in followups:
        followup()
    if locked.status != Status.DRAFT or before != Status.DRAFT:
        dispatch.index_similarity_on_commit(locked.pk)
    if action not in FOLLOWERS_TOLD_BY_CALLER:
        followers_told_of_status(proposal=locked, actor=actor)
    return locked


# Transitions whose caller tells the followers in its own words: starting an
# experiment moves the proposal, and "an experiment has started" says more.
FOLLOWERS_TOLD_BY_CALLER = frozenset({"start_experiment"})


# The extra fields an effect changed: name → (before, after), for the audit event.
Changes = dict[str, tuple[Any, Any]]


# Each effect runs inside proposal_transition, after the checks, and returns the
# extra proposal fields it changed (for the audit event).
def _on_submit(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> Changes:
    for message in messages.proposal_submitted(p, actor=actor):
        send(message)
    emit_webhook(event=WebhookEvent.PROPOSAL_SUBMITTED, proposal=p)
    return {}


def _on_accept(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> Changes:
    assessors = list(User.objects.filter(pk__in=data["assessors"]))
    for assessor in assessors:
        assignment, created = Assignment.objects.get_or_create(
            proposal=p, reviewer=assessor, defaults={"assigned_by": actor}
        )
        Assessment.objects.get_or_create(proposal=p, assessor=assessor)
        if created:
            data["_followups"].append(
                lambda assignment=assignment, assessor=assessor: audit(
                    actor=actor,
                    action="assign",
                    obj=assignment,
                    proposal=p,
                    changes={"assessor": (None, assessor.full_name)},
                    audience=AuditAudience.REVIEWERS,
                )
            )
    send(messages.assessors_assigned(p, actor=actor, assessors=assessors))
    return {}


def _decision(kind: DecisionKind) -> Any:
    def effect(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> Changes:
        text = str(data.get("rationale") or data.get("message") or "").strip()
        Decision.objects.create(
            proposal=p, kind=kind, rationale=text, decided_by=actor, created_at=now
        )
        if kind != DecisionKind.MORE_INFO:
            emit_webhook(event=WebhookEvent.PROPOSAL_DECIDED, proposal=p)
        send(messages.decision_made(p, actor=actor, kind=kind, text=text))
        return {"rationale": (None, text)}

    return effect


def _on_merge(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> Changes:
    survivor = Proposal.objects.select_for_update().get(reference=str(data["into"]).upper())
    already = set(survivor.supports.values_list("user_id", flat=True))
    moved_supports = p.supports.exclude(user_id__in=already).update(proposal=survivor)
    p.supports.all().delete()  # those left were duplicates of supports the survivor has
    moved_comments = p.comments.update(proposal=survivor)
    p.merged_into = survivor
    survivor.updated_at = now
    survivor.version += 1
    survivor.save(update_fields=["updated_at", "version"])
    audit(
        actor=actor,
        action="merge_in",
        obj=survivor,
        proposal=survivor,
        changes={
            "merged_from": (None, p.reference),
            "supports": (0, moved_supports),
            "comments": (0, moved_comments),
        },
    )
    send(messages.proposal_merged(p, survivor=survivor))
    return {"merged_into": (None, survivor.reference)}


def _on_close(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> Changes:
    before = p.next_step
    p.next_step = data["next_step"]
    return {"next_step": (before, p.next_step)}


_EFFECTS = {
    "submit": _on_submit,
    "resubmit": _on_submit,
    "accept": _on_accept,
    "request_info": _decision(DecisionKind.MORE_INFO),
    "reject_at_triage": _decision(DecisionKind.REJECT),
    "approve": _decision(DecisionKind.APPROVE),
    "reject": _decision(DecisionKind.REJECT),
    "merge": _on_merge,
    "close": _on_close,
}


@transaction.atomic
def proposal_delete_draft(*, proposal: Proposal, actor: User) -> None:
    """Authors may delete a draft; the row goes, its audit events stay."""
    locked = lock_proposal(proposal)
    enforce(actor, "delete", locked)
    audit(
        actor=actor,
        action="delete",
        obj=locked,
        proposal=locked,
        changes={"status": (locked.status, None), "title": (locked.title, None)},
        audience=AuditAudience.AUTHORS,
    )
    locked.delete()


def proposal_propose_again(*, proposal: Proposal, actor: User) -> Proposal:
    """A new draft from a rejected proposal, linked back to it."""
    enforce(actor, "propose_again", proposal)
    data: dict[str, Any] = {name: getattr(proposal, name) for name in EDITABLE_FIELDS}
    if data["challenge"] is not None and not data["challenge"].is_open:
        data["challenge"] = None
    data["themes"] = list(proposal.themes.all())
    data["collaborating_departments"] = list(proposal.collaborating_departments.all())
    return proposal_create_draft(author=actor, data=data, previous=proposal)


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
