"""Every write to the domain. Pages, the API, tasks and commands all call these.

Each service is keyword-only, runs in one transaction, writes its audit event
(and notifications) inside that transaction, and queues work for the workers
with `transaction.on_commit`, so a rolled-back action leaves no trace.

Errors: `django.core.exceptions.ValidationError` (with a field → messages
dict) for bad input, `ActionNotAllowed` for a forbidden action on a visible
object, `InvalidTransition` when the proposal is not (or no longer) in a state
that allows the action, `StaleVersion` for an optimistic-concurrency clash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiToken, Department, Role, TokenScope, User
from proposals import permissions as perms
from proposals import scoring
from proposals.enums import (
    EDITABLE,
    AuditAudience,
    DecisionKind,
    ExperimentStatus,
    NotificationKind,
    OutcomeResult,
    Recommendation,
    Status,
    WebhookEvent,
)
from proposals.models import (
    Adoption,
    Assessment,
    Assignment,
    Attachment,
    AuditEvent,
    Challenge,
    Comment,
    Criterion,
    Decision,
    Experiment,
    Metric,
    MetricActual,
    Outcome,
    Proposal,
    ReferenceSequence,
    Score,
    Support,
    WebhookDelivery,
    WebhookEndpoint,
)
from proposals.notifications import notify
from proposals.workflow import DELETE_SOURCES, TRANSITIONS


class ActionNotAllowed(PermissionDenied):
    """The user can see the object but may not do this to it (403)."""


class InvalidTransition(Exception):
    """The proposal is not in a state that allows the action (409): someone else
    may have acted first."""


class StaleVersion(Exception):
    """The caller edited an older version than the one stored (412)."""


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


# --- audit -------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set):
        # Only sets lack an order; lists keep theirs (and may mix types, like a
        # criterion's [name, weight, active], which sorting would crash on).
        return sorted(_jsonable(item) for item in value)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def audit(
    *,
    actor: User | None,
    action: str,
    obj: Model,
    proposal: Proposal | None = None,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    audience: AuditAudience = AuditAudience.EVERYONE,
    department: Department | None = None,
) -> AuditEvent:
    """Append one audit event: actor, action, object, changed fields before/after."""
    return AuditEvent.objects.create(
        proposal=proposal,
        proposal_reference=proposal.reference if proposal is not None else "",
        department=department or (proposal.department if proposal is not None else None),
        actor=actor,
        action=action,
        object_type=obj._meta.model_name or "",
        object_id=str(obj.pk),
        changes={
            name: [_jsonable(before), _jsonable(after)]
            for name, (before, after) in (changes or {}).items()
        },
        audience=audience,
    )


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
    _set_relations(proposal, data)
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


def _lock(proposal: Proposal) -> Proposal:
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("department", "challenge")
        .get(pk=proposal.pk)
    )


@transaction.atomic
def proposal_update(
    *,
    proposal: Proposal,
    actor: User,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Proposal:
    """Edit the answers while the status allows it; audits each changed field."""
    locked = _lock(proposal)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion("This proposal was changed by someone else since you loaded it")
    if not perms.is_author(actor, locked):
        raise ActionNotAllowed("Only the proposal's authors can edit it")
    if locked.status not in EDITABLE:
        raise InvalidTransition(
            f"This proposal is {locked.get_status_display().lower()} and can no longer be edited"
        )
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
    audit(
        actor=actor,
        action="edit",
        obj=locked,
        proposal=locked,
        changes=changes,
        audience=AuditAudience.EVERYONE if locked.status != Status.DRAFT else AuditAudience.AUTHORS,
    )
    return locked


def _authors(proposal: Proposal) -> list[User]:
    return [proposal.submitter, *proposal.co_authors.all()]


def _panel(department_id: int) -> Iterable[User]:
    return User.objects.filter(
        department_id=department_id, role__in=perms.REVIEW_ROLES, is_active=True
    )


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
    locked = _lock(proposal)
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
    return locked


# Each effect runs inside proposal_transition, after the checks, and returns the
# extra proposal fields it changed (for the audit event).
def _on_submit(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> dict:
    notify(
        recipients=[p.submitter],
        kind=NotificationKind.SUBMITTED,
        subject=f"Your proposal {p.reference} has been submitted",
        body=(
            f"Your proposal “{p.title}” has been submitted to {p.department.name}.\n\n"
            f"Your reference is {p.reference}. The department's reviewers will look at it "
            f"within {p.department.triage_target_days} working days."
        ),
        proposal=p,
    )
    notify(
        recipients=_panel(p.department_id),
        kind=NotificationKind.NEW_SUBMISSION,
        subject=f"New proposal to triage: {p.reference}",
        body=f"“{p.title}” has been submitted to {p.department.name} and is waiting for triage.",
        proposal=p,
        exclude=actor,
    )
    emit_webhook(event=WebhookEvent.PROPOSAL_SUBMITTED, proposal=p)
    return {}


def _on_accept(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> dict:
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
    notify(
        recipients=assessors,
        kind=NotificationKind.ASSIGNED,
        subject=f"Please assess {p.reference}",
        body=f"{actor.full_name} has asked you to assess “{p.title}”.",
        proposal=p,
    )
    return {}


def _decision(kind: DecisionKind) -> Any:
    def effect(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> dict:
        text = str(data.get("rationale") or data.get("message") or "").strip()
        Decision.objects.create(
            proposal=p, kind=kind, rationale=text, decided_by=actor, created_at=now
        )
        if kind == DecisionKind.MORE_INFO:
            subject = f"More information is needed for {p.reference}"
            body = f"{actor.full_name} needs more information about “{p.title}”:\n\n{text}"
            notify_kind = NotificationKind.MORE_INFO
        else:
            subject = f"Decision on your proposal {p.reference}: {kind.label.lower()}"
            body = f"Your proposal “{p.title}” has been {kind.label.lower()}.\n\n{text}"
            notify_kind = NotificationKind.DECISION
            emit_webhook(event=WebhookEvent.PROPOSAL_DECIDED, proposal=p)
        notify(
            recipients=_authors(p),
            kind=notify_kind,
            subject=subject,
            body=body,
            proposal=p,
        )
        return {"rationale": (None, text)}

    return effect


def _on_merge(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> dict:
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
    notify(
        recipients=_authors(p),
        kind=NotificationKind.DECISION,
        subject=f"Your proposal {p.reference} has been merged into {survivor.reference}",
        body=(
            f"“{p.title}” duplicated “{survivor.title}”, so the two have been merged. "
            f"Its supports and comments are now on {survivor.reference}."
        ),
        proposal=p,
    )
    return {"merged_into": (None, survivor.reference)}


def _on_close(p: Proposal, actor: User, data: dict[str, Any], now: dt.datetime) -> dict:
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
    locked = _lock(proposal)
    if not perms.is_author(actor, locked):
        raise ActionNotAllowed("Only the proposal's authors can delete it")
    if locked.status not in DELETE_SOURCES:
        raise InvalidTransition("Only drafts can be deleted; withdraw a submitted proposal instead")
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
    if proposal.status != Status.REJECTED or not perms.is_author(actor, proposal):
        raise ActionNotAllowed("Only the authors of a rejected proposal can propose it again")
    data: dict[str, Any] = {name: getattr(proposal, name) for name in EDITABLE_FIELDS}
    if data["challenge"] is not None and not data["challenge"].is_open:
        data["challenge"] = None
    data["themes"] = list(proposal.themes.all())
    data["collaborating_departments"] = list(proposal.collaborating_departments.all())
    return proposal_create_draft(author=actor, data=data, previous=proposal)


# --- attachments -------------------------------------------------------------------------

# What an attachment may be (SPEC §3), decided from the file's bytes by `filetype`,
# never from its name or the browser's MIME type: the file is served with the type
# found here, so a page saved as "photo.png" can never be served as HTML.
ATTACHMENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "image/png": "png",
    "image/jpeg": "jpg",
}
ATTACHMENTS_PER_PROPOSAL = 10


def _attachment_name(original: str, extension: str) -> str:
    """The uploaded name without any path, ending in the extension its content has."""
    name = original.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment"
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*')[:150]
    _stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in ({extension} | ({"jpeg"} if extension == "jpg" else set())):
        name = f"{name}.{extension}"
    return name


@transaction.atomic
def attachment_add(*, proposal: Proposal, actor: User, upload: Any) -> Attachment:
    """Attach a file while the proposal may be edited: checked by size, then by content."""
    import filetype  # type: ignore[import-untyped]

    locked = _lock(proposal)
    if not perms.can_edit(actor, locked):
        raise ActionNotAllowed("Only the proposal's authors can add files while it can be edited")
    if upload is None or not getattr(upload, "size", 0):
        raise ValidationError({"file": ["Select a file"]})
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {"file": [f"The file must be smaller than {limit // (1024 * 1024)}MB"]}
        )
    if locked.attachments.count() >= ATTACHMENTS_PER_PROPOSAL:
        raise ValidationError(
            {"file": [f"A proposal can have up to {ATTACHMENTS_PER_PROPOSAL} files"]}
        )
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    kind = filetype.guess(content)
    if kind is None or kind.mime not in ATTACHMENT_TYPES:
        raise ValidationError({"file": ["The selected file must be a PDF, ODT, DOCX, PNG or JPEG"]})
    from django.core.files.base import ContentFile

    name = _attachment_name(getattr(upload, "name", "") or "", ATTACHMENT_TYPES[kind.mime])
    attachment = Attachment(
        proposal=locked,
        original_name=name,
        content_type=kind.mime,
        size=len(content),
        uploaded_by=actor,
    )
    # Stored under a random name: the original name is only ever a download name.
    attachment.file.save(
        f"{secrets.token_hex(16)}.{ATTACHMENT_TYPES[kind.mime]}", ContentFile(content), save=False
    )
    attachment.save()
    audit(
        actor=actor,
        action="attach",
        obj=attachment,
        proposal=locked,
        changes={"file": (None, name)},
        audience=AuditAudience.EVERYONE if locked.status != Status.DRAFT else AuditAudience.AUTHORS,
    )
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, actor: User) -> None:
    locked = _lock(attachment.proposal)
    if not perms.can_edit(actor, locked):
        raise ActionNotAllowed(
            "Only the proposal's authors can remove files while it can be edited"
        )
    name = attachment.original_name
    audit(
        actor=actor,
        action="detach",
        obj=attachment,
        proposal=locked,
        changes={"file": (name, None)},
        audience=AuditAudience.EVERYONE if locked.status != Status.DRAFT else AuditAudience.AUTHORS,
    )
    stored = attachment.file.name
    attachment.delete()
    # Remove the stored file only once the row's deletion has committed.
    storage = attachment.file.storage
    transaction.on_commit(lambda: storage.delete(stored) if stored else None)


# --- assessment ----------------------------------------------------------------------------


def _assessment_for(proposal: Proposal, assessor: User) -> Assessment:
    assessment = (
        Assessment.objects.select_for_update().filter(proposal=proposal, assessor=assessor).first()
    )
    if assessment is None:
        raise ActionNotAllowed("You have not been asked to assess this proposal")
    return assessment


@transaction.atomic
def assessment_declare_conflict(
    *, proposal: Proposal, assessor: User, conflict: bool, details: str = ""
) -> Assessment:
    """The first step of assessing: a declared conflict stops the assessor."""
    locked = _lock(proposal)
    assessment = _assessment_for(locked, assessor)
    if assessment.submitted_at is not None or assessment.conflict_declared is not None:
        raise InvalidTransition("You have already made your declaration")
    if locked.status != Status.IN_REVIEW:
        raise InvalidTransition("This proposal is no longer in review")
    if conflict and not details.strip():
        raise ValidationError({"conflict_details": ["Describe the conflict of interest"]})
    assessment.conflict_declared = conflict
    assessment.conflict_details = details.strip()
    assessment.save(update_fields=["conflict_declared", "conflict_details"])
    audit(
        actor=assessor,
        action="declare_conflict" if conflict else "declare_no_conflict",
        obj=assessment,
        proposal=locked,
        changes={"conflict_declared": (None, conflict)},
        audience=AuditAudience.REVIEWERS,
    )
    return assessment


@transaction.atomic
def assessment_submit(
    *,
    proposal: Proposal,
    assessor: User,
    scores: Mapping[int, tuple[int, str]],
    recommendation: str,
    comment: str = "",
) -> Assessment:
    """Score every active criterion 1–5 with a comment and recommend.

    The weighted score comes from `scoring.weighted_score`, the one place that
    combines scores.
    """
    locked = _lock(proposal)
    assessment = _assessment_for(locked, assessor)
    if assessment.conflict_declared is None:
        raise InvalidTransition("Declare whether you have a conflict of interest first")
    if not perms.can_assess(assessor, locked, assessment):
        raise InvalidTransition("You cannot assess this proposal now")
    criteria = list(Criterion.objects.filter(department_id=locked.department_id, active=True))
    errors: dict[str, list[str]] = {}
    for criterion in criteria:
        score, _ = scores.get(criterion.pk, (None, ""))
        if not isinstance(score, int) or not 1 <= score <= 5:
            errors[f"score_{criterion.pk}"] = [f"Score “{criterion.name}” from 1 to 5"]
    if recommendation not in Recommendation.values:
        errors["recommendation"] = ["Select whether you recommend funding"]
    if errors:
        raise ValidationError(errors)
    Score.objects.bulk_create(
        Score(
            assessment=assessment,
            criterion=c,
            score=scores[c.pk][0],
            comment=scores[c.pk][1].strip(),
        )
        for c in criteria
    )
    assessment.weighted_score = scoring.weighted_score(
        (scores[c.pk][0], c.weight) for c in criteria
    )
    assessment.recommendation = recommendation
    assessment.comment = comment.strip()
    assessment.submitted_at = timezone.now()
    assessment.save(update_fields=["weighted_score", "recommendation", "comment", "submitted_at"])
    locked.updated_at = assessment.submitted_at
    locked.save(update_fields=["updated_at"])
    audit(
        actor=assessor,
        action="assess",
        obj=assessment,
        proposal=locked,
        changes={
            "weighted_score": (None, assessment.weighted_score),
            "recommendation": (None, recommendation),
        },
        audience=AuditAudience.REVIEWERS,
    )
    return assessment


@transaction.atomic
def feedback_release(*, proposal: Proposal, actor: User) -> Proposal:
    locked = _lock(proposal)
    if not perms.can_release_feedback(actor, locked):
        raise ActionNotAllowed("Only the department's lead can release feedback after a decision")
    if locked.feedback_released:
        return locked
    locked.feedback_released = True
    locked.updated_at = timezone.now()
    locked.save(update_fields=["feedback_released", "updated_at"])
    audit(
        actor=actor,
        action="release_feedback",
        obj=locked,
        proposal=locked,
        changes={"feedback_released": (False, True)},
        audience=AuditAudience.AUTHORS,
    )
    notify(
        recipients=_authors(locked),
        kind=NotificationKind.FEEDBACK,
        subject=f"Assessors' feedback on {locked.reference}",
        body=f"The assessors' comments on “{locked.title}” are now on the proposal's page.",
        proposal=locked,
    )
    return locked


# --- comments and supports -----------------------------------------------------------------

COMMENT_EDIT_MINUTES = 15


@transaction.atomic
def comment_add(*, proposal: Proposal, author: User, body: str) -> Comment:
    body = body.strip()
    if not body:
        raise ValidationError({"body": ["Enter a comment"]})
    if len(body) > 5000:
        raise ValidationError({"body": ["Comment must be 5,000 characters or fewer"]})
    if not perms.can_comment(author, proposal):
        raise ActionNotAllowed("Comments open once a proposal is submitted")
    comment = Comment.objects.create(proposal=proposal, author=author, body=body)
    audit(actor=author, action="comment", obj=comment, proposal=proposal)
    notify(
        recipients=_authors(proposal),
        kind=NotificationKind.COMMENT,
        subject=f"New comment on {proposal.reference}",
        body=(
            f"{author.full_name} ({author.department.name}) commented on "
            f"“{proposal.title}”:\n\n{body}"
        ),
        proposal=proposal,
        exclude=author,
    )
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, author: User, body: str) -> Comment:
    body = body.strip()
    if not body:
        raise ValidationError({"body": ["Enter a comment"]})
    if len(body) > 5000:
        raise ValidationError({"body": ["Comment must be 5,000 characters or fewer"]})
    minutes = (timezone.now() - comment.created_at).total_seconds() / 60
    if not perms.can_edit_comment(author, comment, now_minutes_since=minutes):
        raise ActionNotAllowed(
            f"You can edit your own comment for {COMMENT_EDIT_MINUTES} minutes after posting it"
        )
    before = comment.body
    comment.body = body
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    audit(
        actor=author,
        action="edit_comment",
        obj=comment,
        proposal=comment.proposal,
        changes={"body": (before, body)},
    )
    return comment


@transaction.atomic
def support_add(*, proposal: Proposal, user: User) -> Support:
    """One support per person: a second press changes nothing."""
    if not perms.can_support(user, proposal):
        raise ActionNotAllowed("You cannot support this proposal")
    existing = Support.objects.filter(proposal=proposal, user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            support = Support.objects.create(proposal=proposal, user=user)
    except IntegrityError:  # a double click that raced past the check above
        return Support.objects.get(proposal=proposal, user=user)
    audit(actor=user, action="support", obj=support, proposal=proposal)
    return support


@transaction.atomic
def support_remove(*, proposal: Proposal, user: User) -> None:
    deleted, _ = Support.objects.filter(proposal=proposal, user=user).delete()
    if deleted:
        audit(actor=user, action="unsupport", obj=proposal, proposal=proposal)


# --- experiments and outcomes ----------------------------------------------------------------


def _decimal(value: Any, field: str, errors: dict[str, list[str]], label: str) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(f"Enter {label} as a number")
        return None


@transaction.atomic
def experiment_plan(
    *,
    proposal: Proposal,
    actor: User,
    data: Mapping[str, Any],
    metrics: Sequence[Mapping[str, Any]],
) -> Experiment:
    """A time-boxed experiment with its hypothesis and measured metrics."""
    locked = _lock(proposal)
    if not perms.can_plan_experiment(actor, locked):
        raise ActionNotAllowed(
            "Only the department's lead can plan experiments on approved proposals"
        )
    lead = data.get("lead") or actor
    experiment = Experiment(
        proposal=locked,
        title=data.get("title") or "",
        we_believe=data.get("we_believe") or "",
        will_result_in=data.get("will_result_in") or "",
        we_will_know_when=data.get("we_will_know_when") or "",
        lead=lead,
        # None fails full_clean() below with "This field cannot be null."
        starts_on=cast(dt.date, data.get("starts_on")),
        ends_on=cast(dt.date, data.get("ends_on")),
        budget_gbp=data.get("budget_gbp") or 0,
    )
    errors: dict[str, list[str]] = {}
    try:
        experiment.full_clean(exclude=["proposal", "lead"])
    except ValidationError as exc:
        errors |= exc.message_dict
    if experiment.starts_on and experiment.ends_on and experiment.ends_on < experiment.starts_on:
        errors.setdefault("ends_on", []).append("The end date must be on or after the start date")
    if lead.department_id != locked.department_id:
        errors.setdefault("lead", []).append("The experiment's lead must work in the department")
    rows: list[Metric] = []
    if not metrics:
        errors.setdefault("metrics", []).append("Add at least one metric")
    for index, metric in enumerate(metrics):
        row = Metric(
            name=str(metric.get("name") or "").strip(),
            unit=str(metric.get("unit") or "").strip(),
            direction=metric.get("direction") or "",
            baseline=_decimal(
                metric.get("baseline"), f"metrics-{index}-baseline", errors, "the baseline"
            ),  # type: ignore[misc]
            target=_decimal(metric.get("target"), f"metrics-{index}-target", errors, "the target"),  # type: ignore[misc]
        )
        try:
            row.full_clean(exclude=["experiment"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(f"metrics-{index}-{name}", []).extend(messages)
        rows.append(row)
    if errors:
        raise ValidationError(errors)
    experiment.save()
    for row in rows:
        row.experiment = experiment
    Metric.objects.bulk_create(rows)
    audit(
        actor=actor,
        action="plan_experiment",
        obj=experiment,
        proposal=locked,
        changes={"experiment": (None, experiment.title), "metrics": (0, len(rows))},
    )
    return experiment


def _lock_experiment(experiment: Experiment) -> Experiment:
    return (
        Experiment.objects.select_for_update(of=("self",))
        .select_related("proposal", "proposal__department")
        .get(pk=experiment.pk)
    )


@transaction.atomic
def experiment_start(*, experiment: Experiment, actor: User) -> Experiment:
    """Start a planned experiment; the proposal becomes `experimenting` with its first."""
    locked = _lock_experiment(experiment)
    if not perms.can_run_experiment(actor, locked):
        raise ActionNotAllowed("You cannot start this experiment")
    if locked.status != ExperimentStatus.PLANNED:
        raise InvalidTransition("This experiment has already started")
    now = timezone.now()
    locked.status = ExperimentStatus.RUNNING
    locked.started_at = now
    locked.updated_at = now
    locked.save(update_fields=["status", "started_at", "updated_at"])
    audit(
        actor=actor,
        action="start_experiment",
        obj=locked,
        proposal=locked.proposal,
        changes={"status": (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING)},
    )
    if locked.proposal.status == Status.APPROVED:
        proposal_transition(proposal=locked.proposal, actor=actor, action="start_experiment")
    return locked


@transaction.atomic
def experiment_stop(*, experiment: Experiment, actor: User, reason: str) -> Experiment:
    """Stop a running experiment early; it still needs an outcome."""
    locked = _lock_experiment(experiment)
    if not perms.can_run_experiment(actor, locked):
        raise ActionNotAllowed("You cannot stop this experiment")
    if locked.status != ExperimentStatus.RUNNING:
        raise InvalidTransition("Only a running experiment can be stopped")
    if not reason.strip():
        raise ValidationError({"reason": ["Enter why the experiment is stopping early"]})
    now = timezone.now()
    locked.status = ExperimentStatus.STOPPED
    locked.stopped_at = now
    locked.updated_at = now
    locked.save(update_fields=["status", "stopped_at", "updated_at"])
    audit(
        actor=actor,
        action="stop_experiment",
        obj=locked,
        proposal=locked.proposal,
        changes={
            "status": (ExperimentStatus.RUNNING, ExperimentStatus.STOPPED),
            "reason": (None, reason.strip()),
        },
    )
    return locked


@transaction.atomic
def outcome_record(
    *,
    experiment: Experiment,
    actor: User,
    actuals: Mapping[int, Any],
    result: str,
    lessons: str,
    recommendation: str,
    realised_benefit_gbp: int | None = None,
    publish: bool = False,
) -> Outcome:
    """Each metric's actual value, the result, lessons and a recommendation."""
    locked = _lock_experiment(experiment)
    if not perms.can_record_outcome(actor, locked):
        raise ActionNotAllowed("Start the experiment before recording its outcome")
    if Outcome.objects.filter(experiment=locked).exists():
        raise InvalidTransition("This experiment already has an outcome")
    errors: dict[str, list[str]] = {}
    metrics = list(locked.metrics.all())
    values: dict[int, Decimal] = {}
    for metric in metrics:
        raw = actuals.get(metric.pk)
        if raw is None or str(raw).strip() == "":
            errors[f"actual_{metric.pk}"] = [f"Enter the actual value of “{metric.name}”"]
            continue
        value = _decimal(raw, f"actual_{metric.pk}", errors, f"the actual value of “{metric.name}”")
        if value is not None:
            values[metric.pk] = value
    if result not in OutcomeResult.values:
        errors["result"] = ["Select the result"]
    if recommendation not in {"scale", "iterate", "stop"}:
        errors["recommendation"] = ["Select whether to scale, iterate or stop"]
    if not lessons.strip():
        errors["lessons"] = ["Enter the lessons learned"]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    outcome = Outcome.objects.create(
        experiment=locked,
        result=result,
        lessons=lessons.strip(),
        recommendation=recommendation,
        realised_benefit_gbp=realised_benefit_gbp,
        recorded_by=actor,
        created_at=now,
        updated_at=now,
    )
    MetricActual.objects.bulk_create(
        MetricActual(outcome=outcome, metric=m, value=values[m.pk]) for m in metrics
    )
    if locked.status == ExperimentStatus.RUNNING:
        locked.status = ExperimentStatus.COMPLETED
        locked.updated_at = now
        locked.save(update_fields=["status", "updated_at"])
    audit(
        actor=actor,
        action="record_outcome",
        obj=outcome,
        proposal=locked.proposal,
        changes={"result": (None, result), "recommendation": (None, recommendation)},
    )
    if publish:
        outcome_publish(outcome=outcome, actor=actor)
    return outcome


@transaction.atomic
def outcome_publish(*, outcome: Outcome, actor: User) -> Outcome:
    """Add the outcome to the lessons library — failures as much as successes."""
    outcome = (
        Outcome.objects.select_for_update()
        .select_related("experiment__proposal__department")
        .get(pk=outcome.pk)
    )
    proposal = outcome.experiment.proposal
    if not perms.is_department_lead(actor, proposal):
        raise ActionNotAllowed("Only the department's lead can publish outcomes")
    if outcome.published:
        return outcome
    outcome.published = True
    outcome.published_at = timezone.now()
    outcome.updated_at = outcome.published_at
    outcome.save(update_fields=["published", "published_at", "updated_at"])
    audit(
        actor=actor,
        action="publish_outcome",
        obj=outcome,
        proposal=proposal,
        changes={"published": (False, True)},
    )
    emit_webhook(event=WebhookEvent.OUTCOME_PUBLISHED, proposal=proposal, outcome=outcome)
    return outcome


def proposal_adopt(*, outcome: Outcome, actor: User) -> Proposal:
    """Another department reuses a published outcome: a linked draft that credits it."""
    if not outcome.published or not perms.can_adopt(actor):
        raise ActionNotAllowed("Only published outcomes can be adopted")
    original = outcome.experiment.proposal
    with transaction.atomic():
        draft = proposal_create_draft(
            author=actor,
            data={
                "title": f"Adopt: {original.title}"[:150],
                "summary": original.summary,
                "problem": original.problem,
                "who_has_the_problem": original.who_has_the_problem,
                "proposed_solution": (
                    f"Adopt {original.reference} from {original.department.name}, whose "
                    f"experiment “{outcome.experiment.title}” found: {outcome.lessons}\n\n"
                    f"{original.proposed_solution}"
                ),
                "expected_benefits": original.expected_benefits,
                "cost_band": original.cost_band,
                "themes": list(original.themes.all()),
            },
        )
        adoption = Adoption.objects.create(
            outcome=outcome, proposal=draft, department=actor.department, adopted_by=actor
        )
        audit(
            actor=actor,
            action="adopt",
            obj=adoption,
            proposal=draft,
            changes={"adopted_from": (None, original.reference)},
            audience=AuditAudience.AUTHORS,
        )
    return draft


# --- webhooks (rows written with the change; delivered by the workers) ---------------------


def emit_webhook(
    *, event: WebhookEvent, proposal: Proposal, outcome: Outcome | None = None
) -> list[WebhookDelivery]:
    """One delivery row per subscribed endpoint of the owning department.

    Department-only proposals are still sent: endpoints belong to that department.
    """
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(department_id=proposal.department_id, active=True)
        if event.value in e.events
    ]
    if not endpoints:
        return []
    data: dict[str, Any] = {
        "reference": proposal.reference,
        "title": proposal.title,
        "status": proposal.status,
        "department": proposal.department.slug,
        "url": f"{settings.SITE_URL}{proposal.get_absolute_url()}",
    }
    if outcome is not None:
        data["outcome"] = {
            "result": outcome.result,
            "recommendation": outcome.recommendation,
            "experiment": outcome.experiment.title,
        }
    now = timezone.now()
    rows = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(endpoint=endpoint, event=event.value, payload={})
        delivery.payload = {
            "event": event.value,
            "id": str(delivery.pk),
            "occurred_at": now.isoformat(),
            "data": data,
        }
        rows.append(delivery)
    created = WebhookDelivery.objects.bulk_create(rows)
    from proposals import webhooks

    ids = [str(row.pk) for row in created]
    transaction.on_commit(lambda: webhooks.enqueue(ids), robust=True)
    return created


# --- departments, people, challenges, tokens -----------------------------------------------

DEPARTMENT_SETTINGS = ("triage_target_days", "min_assessments", "moderation_threshold")


@transaction.atomic
def department_configure(
    *,
    department: Department,
    actor: User,
    data: Mapping[str, Any],
    criteria: Sequence[Mapping[str, Any]] | None = None,
) -> Department:
    """Settings and criteria weights: configured, not customised, and audited."""
    if not perms.can_configure(actor, department):
        raise ActionNotAllowed("Only the department's portfolio lead can change its settings")
    locked = Department.objects.select_for_update().get(pk=department.pk)
    changes: dict[str, tuple[Any, Any]] = {}
    for name in DEPARTMENT_SETTINGS:
        if name in data and getattr(locked, name) != data[name]:
            changes[name] = (getattr(locked, name), data[name])
            setattr(locked, name, data[name])
    locked.full_clean()
    if locked.min_assessments < 1:
        raise ValidationError({"min_assessments": ["At least one assessment is needed"]})
    locked.save()
    for item in criteria or []:
        criterion = Criterion.objects.filter(department=locked, pk=item.get("id") or 0).first()
        if criterion is None:
            criterion = Criterion(department=locked)
        before = (criterion.name, criterion.weight, criterion.active)
        criterion.name = str(item.get("name") or criterion.name).strip()
        criterion.description = str(item.get("description") or criterion.description)
        criterion.weight = Decimal(str(item.get("weight", criterion.weight)))
        criterion.active = bool(item.get("active", True))
        try:
            criterion.full_clean(exclude=["department"])
        except ValidationError as exc:
            raise ValidationError(
                {f"criterion-{criterion.name}-{k}": v for k, v in exc.message_dict.items()}
            ) from None
        if criterion.weight <= 0:
            raise ValidationError(
                {f"criterion-{criterion.name}-weight": ["Weight must be above 0"]}
            )
        criterion.save()
        after = (criterion.name, criterion.weight, criterion.active)
        if before != after:
            changes[f"criterion:{criterion.pk}"] = (list(before), list(after))
    if not Criterion.objects.filter(department=locked, active=True).exists():
        raise ValidationError({"criteria": ["Keep at least one active criterion"]})
    if changes:
        audit(
            actor=actor,
            action="configure_department",
            obj=locked,
            department=locked,
            changes=changes,
        )
    return locked


@transaction.atomic
def user_set_role(*, user: User, actor: User, role: str) -> User:
    """Panel membership: a lead makes a colleague a reviewer (or back)."""
    if role not in {Role.SUBMITTER, Role.REVIEWER, Role.LEAD}:
        raise ValidationError({"role": ["Select submitter, reviewer or portfolio lead"]})
    if not (actor.is_superuser or perms.is_lead_of(actor, user.department_id)):
        raise ActionNotAllowed("Only the department's lead can change its panel")
    before = user.role
    if before != role:
        user.role = role
        user.save(update_fields=["role"])
        audit(
            actor=actor,
            action="set_role",
            obj=user,
            department=user.department,
            changes={"role": (before, role)},
        )
    return user


@transaction.atomic
def user_move_department(*, user: User, actor: User, department: Department) -> User:
    """Move someone to another department (a lead of their current one, or an operator).

    They arrive as a submitter: review rights do not travel between departments.
    """
    if not (actor.is_superuser or perms.is_lead_of(actor, user.department_id)):
        raise ActionNotAllowed("Only a lead of the person's department can move them")
    before = user.department
    if before.pk == department.pk:
        return user
    user.department = department
    changes: dict[str, tuple[Any, Any]] = {"department": (before.slug, department.slug)}
    if user.role in perms.REVIEW_ROLES:
        changes["role"] = (user.role, Role.SUBMITTER)
        user.role = Role.SUBMITTER
    user.save(update_fields=["department", "role"])
    audit(actor=actor, action="move_department", obj=user, department=before, changes=changes)
    return user


@transaction.atomic
def challenge_create(*, actor: User, data: Mapping[str, Any]) -> Challenge:
    department = data.get("department", actor.department)
    if not perms.can_manage_challenges(actor, department):
        raise ActionNotAllowed("Only a portfolio lead can open a challenge")
    challenge = Challenge(
        title=str(data.get("title") or "").strip(),
        question=str(data.get("question") or "").strip(),
        department=department,
        opens_on=cast(dt.date, data.get("opens_on")),
        closes_on=cast(dt.date, data.get("closes_on")),
        created_by=actor,
    )
    base = slugify(challenge.title)[:80] or "challenge"
    challenge.slug = base
    suffix = 2
    while Challenge.objects.filter(slug=challenge.slug).exists():
        challenge.slug = f"{base}-{suffix}"
        suffix += 1
    challenge.full_clean()
    challenge.save()
    if "themes" in data:
        challenge.themes.set(data["themes"])
    audit(actor=actor, action="open_challenge", obj=challenge, department=department)
    return challenge


@transaction.atomic
def challenge_close(*, challenge: Challenge, actor: User) -> Challenge:
    if not perms.can_manage_challenges(actor, challenge.department):
        raise ActionNotAllowed("Only the challenge's department lead can close it")
    if challenge.closed_at is None:
        challenge.closed_at = timezone.now()
        challenge.save(update_fields=["closed_at"])
        audit(actor=actor, action="close_challenge", obj=challenge, department=challenge.department)
    return challenge


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, scope: str = TokenScope.READ, days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token and its key. The key is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Enter a name for the token"]})
    if scope not in TokenScope.values:
        raise ValidationError({"scope": ["Select read only or read and write"]})
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= 366:
        raise ValidationError({"days": ["A token lasts between 1 and 366 days"]})
    key = f"pai_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:12],
        key_hash=hash_token(key),
        scope=scope,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    audit(
        actor=user,
        action="create_token",
        obj=token,
        department=user.department,
        changes={"scope": (None, scope), "prefix": (None, token.prefix)},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_superuser:
        raise ActionNotAllowed("You can only revoke your own tokens")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=actor, action="revoke_token", obj=token, department=actor.department)
    return token
