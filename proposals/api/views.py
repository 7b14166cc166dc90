"""The REST API (SPEC §6): a viewset per resource; workflow actions are POSTs
that call the same services as the pages and answer with the proposal.

Views are thin: every queryset starts from the visibility selector (anything
outside it is a 404 on every verb), input is checked by a serializer, the
change is made by a service, and the response is shaped in `rows.py`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Department, User
from proposals import permissions as perms
from proposals import registry, reports, selectors, services, similarity, workflow
from proposals.api import changes, rows
from proposals.api import serializers as s
from proposals.api.exceptions import Conflict
from proposals.api.filters import filter_experiments, filtered, parameters, settled, validated
from proposals.api.pagination import RankedPagination, UpdatedAtCursorPagination
from proposals.api.renderers import JSONRenderer
from proposals.enums import ReportStatus
from proposals.filters import ApiOutcomeFilter, ApiProposalFilter, report_filters
from proposals.models import (
    Challenge,
    Comment,
    Criterion,
    EvaluationPlan,
    Experiment,
    Follow,
    Outcome,
    Proposal,
    Report,
    Support,
    Theme,
    WebhookDelivery,
    WebhookEndpoint,
)
from proposals.workflow import available_actions

if TYPE_CHECKING:

    class AuthedRequest(Request):
        user: User  # IsAuthenticated runs before every view here

else:
    AuthedRequest = Request

REFERENCE_PATTERN = r"[A-Za-z0-9-]{1,32}"

# The triage endpoint's choices, as the transition table names them.
TRIAGE_ACTIONS = {"accept": "accept", "request_info": "request_info", "reject": "reject_at_triage"}


# --- ETags -----------------------------------------------------------------------------------


def etag_for(proposal: Proposal) -> str:
    """Strong ETag of a proposal's version (incremented by every write)."""
    return f'"{proposal.version}"'


# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, in a comma-separated list.
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
_IF_MATCH = re.compile(rf"\s*{_ENTITY_TAG}\s*(?:,\s*{_ENTITY_TAG}\s*)*")
_TAGS = re.compile(rf"({_ENTITY_TAG})")


def expected_version(if_match: str | None, current: int) -> int | None:
    """The version a PATCH must still find, from `If-Match` (RFC 9110 §13.1.1).

    None when there is no header, or `*` (the proposal exists: we found it).
    `current` when one tag of the list matches our ETag by strong comparison:
    a weak tag (`W/"2"`) never matches, since If-Match promises the exact
    representation. Anything else, an unreadable header included, can match no
    version: -1, which the service answers with 412, nothing written.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    if not _IF_MATCH.fullmatch(if_match):
        return -1
    strong = f'"{current}"'
    if any(tag == strong for tag in _TAGS.findall(if_match)):
        return current
    return -1


# --- proposals ---------------------------------------------------------------------------------


def no_body(request: AuthedRequest) -> None:
    """Actions that take no input still parse what was sent, so a wrong content
    type is a 415, a malformed or oversized body a 400 or 413, never ignored."""
    data = request.data
    if data not in (None, {}) and not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Send no body, or an empty JSON object"]})


def _body_or_empty(request: AuthedRequest) -> Any:
    """An action whose body is optional: nothing sent reads as `{}`."""
    data = request.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Send no body, or a JSON object"]})
    return data


def _visible_proposal(request: AuthedRequest, reference: str) -> Proposal:
    return selectors.proposal_for(request.user, reference)


def _assessments_for(user: User, proposal: Proposal) -> list[dict[str, Any]] | None:
    if not perms.can_see_assessments(user, proposal):
        return None
    return rows.assessment_rows(selectors.assessments_visible_to(user, proposal))


def _feedback_for(user: User, proposal: Proposal) -> list[str] | None:
    if not proposal.feedback_released or not perms.can_see_feedback(user, proposal):
        return None
    return list(
        selectors.feedback_visible_to(user, proposal)
        .exclude(comment="")
        .order_by("submitted_at", "id")
        .values_list("comment", flat=True)
    )


def proposal_detail(user: User, proposal: Proposal) -> dict[str, Any]:
    """The detail: the list row plus decision, experiments, outcomes and what
    this caller may see of the assessments."""
    queryset = Proposal.objects.filter(pk=proposal.pk)
    data = rows.proposal_rows(queryset)[0]
    data["decision"] = rows.decision_row(selectors.decisions_visible_to(user, proposal))
    data["experiments"] = rows.experiment_rows(
        selectors.experiments_visible_to(user).filter(proposal=proposal).order_by("starts_on", "id")
    )
    data["outcomes"] = rows.outcome_rows(
        selectors.outcomes_visible_to(user)
        .filter(experiment__proposal=proposal)
        .order_by("experiment__starts_on", "id")
    )
    data["assessments"] = _assessments_for(user, proposal)
    data["feedback"] = _feedback_for(user, proposal)
    data["support_count"] = proposal.support_count
    data["available_actions"] = [t.action for t in available_actions(user, proposal)]
    return data


def _similar_rows(matches: list[similarity.Match]) -> dict[str, Any]:
    return {
        "results": [
            {
                "reference": match.reference,
                "title": match.title,
                "department": {
                    "slug": match.department.slug,
                    "name": match.department.name,
                    "acronym": match.department.acronym,
                },
                "status": match.status,
                "kind": match.kind,
                "result": match.result or None,
                "score": match.score,
            }
            for match in matches
        ]
    }


def detail_response(request: AuthedRequest, proposal: Proposal, code: int = 200) -> Response:
    fresh = _visible_proposal(request, proposal.reference)
    return Response(
        proposal_detail(request.user, fresh), status=code, headers={"ETag": etag_for(fresh)}
    )


ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    required=True,
    description="The proposal's version, for `If-Match` on a later PATCH.",
)


def _detail_schema(request_serializer: Any, summary: str, description: str = "") -> Any:
    return extend_schema(
        request=request_serializer,
        responses={200: s.ProposalDetailOut},
        parameters=[ETAG_HEADER],
        summary=summary,
        description=description,
    )


class ProposalViewSet(viewsets.GenericViewSet):
    """Proposals the caller may see (SPEC §1 visibility)."""

    lookup_field = "reference"
    lookup_value_regex = REFERENCE_PATTERN
    pagination_class = UpdatedAtCursorPagination
    serializer_class = s.ProposalOut

    def get_queryset(self) -> QuerySet[Proposal]:
        return selectors.proposals_visible_to(self.request.user)

    @extend_schema(
        parameters=parameters(ApiProposalFilter),
        responses={200: s.ProposalOut(many=True)},
        summary="List proposals you may see",
        description=(
            "Ordered by (`updated_at`, `id`) and paged with cursors. For incremental sync, "
            "start from `updated_after=<newest updated_at seen>` and follow `next` until it "
            "is null. Rows changed in the last API_SETTLING_LAG_SECONDS (default 5) are "
            "held back until they settle, so no late-committing change is skipped. "
            "With `search` (and no `updated_after`) the rows come best match first, as on "
            "Find proposals: a title holding the words as a phrase, then rank, then most "
            "recently updated; a reference finds that proposal alone."
        ),
    )
    def list(self, request: AuthedRequest) -> Response:
        queryset = settled(filtered(ApiProposalFilter, self.get_queryset(), request.query_params))
        params = request.query_params
        # A search is listed best match first, in the selector's order (the page's);
        # `updated_after` asks for the sync order, which is kept.
        ranked = bool(params.get("search", "").strip()) and "updated_after" not in params
        paginator = RankedPagination() if ranked else UpdatedAtCursorPagination()
        page = paginator.paginate_queryset(rows.proposal_values(queryset), request)
        return Response(paginator.get_paginated_response_data(rows.shape_proposals(page)))

    @extend_schema(
        responses={200: s.ProposalDetailOut},
        parameters=[ETAG_HEADER],
        summary="One proposal, with its decision, experiments and outcomes",
    )
    def retrieve(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        return Response(
            proposal_detail(request.user, proposal), headers={"ETag": etag_for(proposal)}
        )

    @extend_schema(
        request=s.ProposalWrite,
        responses={201: s.ProposalDetailOut},
        parameters=[ETAG_HEADER],
        summary="Create a draft in your department",
        description=(
            "Needs a write token. Read-only fields (status, reference, department, "
            "submitter, dates, scores…) are refused with 400."
        ),
    )
    def create(self, request: AuthedRequest) -> Response:
        workflow.check_propose(request.user)
        serializer = s.ProposalWrite(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = _checked_answers(
            serializer.validated_data,
            actor=request.user,
            submitter=request.user,
            department=request.user.department,
            current_challenge_id=None,
            current_partner_ids=[],
        )
        proposal = services.proposal_create_draft(author=request.user, data=data)
        return detail_response(request, proposal, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ProposalWrite,
        responses={200: s.ProposalDetailOut},
        parameters=[
            ETAG_HEADER,
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=(
                    "The ETag you read (RFC 9110: a list of tags, or `*`, may be sent; tags "
                    'are compared strongly, so a weak `W/"n"` never matches). If none '
                    "matches, the proposal changed since and the answer is 412, nothing "
                    "written. Without it the edit is applied as sent."
                ),
            ),
        ],
        summary="Edit a proposal's answers (authors, before triage or when asked)",
    )
    def partial_update(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        serializer = s.ProposalWrite(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        workflow.check(request.user, "edit", proposal)
        data = _checked_answers(
            serializer.validated_data,
            actor=request.user,
            submitter=proposal.submitter,
            department=proposal.department,
            current_challenge_id=proposal.challenge_id,
            current_partner_ids=list(
                proposal.collaborating_departments.values_list("pk", flat=True)
            ),
        )
        services.proposal_update(
            proposal=proposal,
            actor=request.user,
            data=data,
            expected_version=expected_version(request.headers.get("If-Match"), proposal.version),
        )
        return detail_response(request, proposal)

    @extend_schema(responses={204: None}, summary="Delete a draft (authors; drafts only)")
    def destroy(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        no_body(request)
        workflow.check(request.user, "delete", proposal)
        services.proposal_delete_draft(proposal=proposal, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- workflow actions ---

    def _transition(
        self, request: AuthedRequest, reference: str, name: str, data: dict
    ) -> Response:
        proposal = _visible_proposal(request, reference)
        if name in {"submit", "resubmit", "withdraw"}:
            no_body(request)
        workflow.check(request.user, name, proposal)
        services.proposal_transition(proposal=proposal, actor=request.user, action=name, data=data)
        return detail_response(request, proposal)

    @_detail_schema(None, "Submit a draft")
    @action(detail=True, methods=["post"])
    def submit(self, request: AuthedRequest, reference: str) -> Response:
        return self._transition(request, reference, "submit", {})

    @extend_schema(
        request=None,
        responses={200: s.SimilarListOut},
        summary="Proposals and lessons like this one, across government",
        description=(
            "Up to 5, most alike first, among what you may see: by meaning (a local "
            "embedding model) and shared rare words. Lessons are published outcomes."
        ),
    )
    @action(detail=True, methods=["get"], url_path="similar")
    def similar(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        return Response(_similar_rows(similarity.similar_to_proposal(request.user, proposal)))

    @extend_schema(
        request=s.SimilarIn,
        responses={200: s.SimilarListOut},
        summary="Proposals and lessons like a draft you have not saved",
        description=(
            "Send the draft's `title` (and `summary`, `problem`); nothing is stored. "
            "A read-only token may ask."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="similar",
        # Asking writes nothing, so a read-only token may ask.
        permission_classes=[IsAuthenticated],
    )
    def similar_to_draft(self, request: AuthedRequest) -> Response:
        serializer = s.SimilarIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        matches = similarity.similar_to_text(request.user, **serializer.validated_data)
        return Response(_similar_rows(matches))

    @_detail_schema(None, "Resubmit with the information asked for")
    @action(detail=True, methods=["post"])
    def resubmit(self, request: AuthedRequest, reference: str) -> Response:
        return self._transition(request, reference, "resubmit", {})

    @_detail_schema(None, "Withdraw (authors, any time before a decision)")
    @action(detail=True, methods=["post"])
    def withdraw(self, request: AuthedRequest, reference: str) -> Response:
        return self._transition(request, reference, "withdraw", {})

    @_detail_schema(
        s.TriageIn,
        "Triage: accept with assessors, request more information, or reject",
        "The owning department's reviewers and leads.",
    )
    @action(detail=True, methods=["post"])
    def triage(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        serializer = s.TriageIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        choice = data.pop("action")
        workflow.check(request.user, TRIAGE_ACTIONS[choice], proposal)
        if choice == "accept":
            data["assessors"] = _panel_ids(proposal, data.get("assessors") or [])
        services.proposal_transition(
            proposal=proposal, actor=request.user, action=TRIAGE_ACTIONS[choice], data=data
        )
        return detail_response(request, proposal)

    @_detail_schema(
        s.AssessIn,
        "Assess: declare a conflict of interest, then score every criterion",
        "For assigned assessors. Send `conflict` first (true stops you assessing); then "
        "`scores` (each active criterion's id, 1–5, comment) with a `recommendation`. Both "
        "may be sent together.",
    )
    @action(detail=True, methods=["post"])
    def assess(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        serializer = s.AssessIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            if "conflict" in data:
                services.assessment_declare_conflict(
                    proposal=proposal,
                    assessor=request.user,
                    conflict=data["conflict"],
                    details=data.get("conflict_details", ""),
                )
            if "scores" in data:
                services.assessment_submit(
                    proposal=proposal,
                    assessor=request.user,
                    scores={
                        item["criterion"]: (item["score"], item.get("comment", ""))
                        for item in data["scores"]
                    },
                    recommendation=data["recommendation"],
                    comment=data.get("comment", ""),
                )
        return detail_response(request, proposal)

    @_detail_schema(s.DecideIn, "Decide: approve or reject (the department's lead)")
    @action(detail=True, methods=["post"])
    def decide(self, request: AuthedRequest, reference: str) -> Response:
        serializer = s.DecideIn(data=request.data)
        proposal = _visible_proposal(request, reference)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self._transition(
            request, proposal.reference, data["decision"], {"rationale": data.get("rationale", "")}
        )

    @_detail_schema(s.MergeIn, "Merge this duplicate into another proposal (lead)")
    @action(detail=True, methods=["post"])
    def merge(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        serializer = s.MergeIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(request, proposal.reference, "merge", serializer.validated_data)

    @_detail_schema(s.CloseIn, "Close once every experiment has an outcome (lead)")
    @action(detail=True, methods=["post"])
    def close(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        serializer = s.CloseIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(request, proposal.reference, "close", serializer.validated_data)

    # --- the conversation ---

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: s.CommentOut(many=True)},
        summary="Comments on a proposal, oldest first",
    )
    @extend_schema(
        methods=["POST"],
        request=s.CommentIn,
        responses={201: s.CommentOut},
        summary="Comment on a submitted proposal",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        if request.method == "POST":
            workflow.check(request.user, "comment", proposal)
            serializer = s.CommentIn(data=request.data)
            serializer.is_valid(raise_exception=True)
            comment = services.comment_add(
                proposal=proposal,
                author=request.user,
                body=serializer.validated_data["body"],
                follow=serializer.validated_data["follow"],
            )
            return Response(_comment_rows(Comment.objects.filter(pk=comment.pk))[0], status=201)
        return Response(_comment_rows(Comment.objects.filter(proposal=proposal)))

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: s.SupportOut},
        summary="How many support the proposal, and whether you do",
    )
    @extend_schema(
        methods=["POST"],
        request=s.SupportIn,
        responses={201: s.SupportOut},
        summary="Support the proposal (once per person; again changes nothing)",
        description='Send no body, or `{"follow": true}` to follow the proposal too.',
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={200: s.SupportOut},
        summary="Withdraw your support",
    )
    @action(detail=True, methods=["get", "post", "delete"], pagination_class=None)
    def supports(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        code = 200
        if request.method == "POST":
            workflow.check(request.user, "support", proposal)
            serializer = s.SupportIn(data=_body_or_empty(request))
            serializer.is_valid(raise_exception=True)
            services.support_add(
                proposal=proposal, user=request.user, follow=serializer.validated_data["follow"]
            )
            code = 201
        else:
            no_body(request)
        if request.method == "DELETE":
            services.support_remove(proposal=proposal, user=request.user)
        supports = Support.objects.filter(proposal=proposal)
        return Response(
            {
                "count": supports.count(),
                "supported_by_you": supports.filter(user=request.user).exists(),
            },
            status=code,
        )

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: s.FollowOut},
        summary="Whether you follow the proposal",
    )
    @extend_schema(
        methods=["POST"],
        request=None,
        responses={201: s.FollowOut},
        summary="Follow the proposal (once per person; again changes nothing)",
        description="Anyone who may see the proposal and write, except its authors (who "
        "are told already), may follow it: they are then told, by email and in their "
        "notifications (kind `followed_proposal_changed`), when its status changes, a "
        "decision is made, an experiment starts or an outcome is published — while they "
        "may still see it.",
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={200: s.FollowOut},
        summary="Stop following the proposal",
    )
    @action(detail=True, methods=["get", "post", "delete"], pagination_class=None)
    def follow(self, request: AuthedRequest, reference: str) -> Response:
        proposal = _visible_proposal(request, reference)
        no_body(request)
        code = 200
        if request.method == "POST":
            workflow.check(request.user, "follow", proposal)
            services.follow_add(proposal=proposal, user=request.user)
            code = 201
        elif request.method == "DELETE":
            services.follow_remove(proposal=proposal, user=request.user)
        following = Follow.objects.filter(proposal=proposal, user=request.user).exists()
        return Response({"following": following}, status=code)


def _checked_answers(
    data: dict[str, Any],
    *,
    actor: User,
    submitter: User,
    department: Department,
    current_challenge_id: int | None,
    current_partner_ids: list[int],
) -> dict[str, Any]:
    """The answers with the rules a serializer cannot know: a closed challenge takes
    no new proposals, and co-authors (sent as emails) must be people who can see
    the proposal, with one answer for every other address (no account probing):
    `workflow.co_authors_for`, the rule the question page asks too."""
    data = dict(data)
    errors = workflow.challenge_errors(data.get("challenge"), current_challenge_id)
    if errors:
        raise ValidationError(errors)
    if "co_authors" in data:
        partners = data.get("collaborating_departments")
        partner_ids = [d.pk for d in partners] if partners is not None else current_partner_ids
        data["co_authors"] = workflow.co_authors_for(
            list(data["co_authors"] or []),
            actor=actor,
            submitter=submitter,
            department=department,
            collaborating_ids=partner_ids,
        )
    return data


def _panel_ids(proposal: Proposal, values: list[str]) -> list[int | None]:
    """Assessors named by email or id, resolved within the owning department only.

    Names that match no one there become None, which the transition's own check
    rejects with its message, so a lookup cannot probe other departments' people.
    """
    emails = [v.strip().lower() for v in values if not v.strip().isdigit()]
    by_email = dict(
        User.objects.filter(department_id=proposal.department_id, email__in=emails).values_list(
            "email", "pk"
        )
    )
    out: list[int | None] = []
    for value in values:
        value = value.strip()
        if value.isdigit() and len(value) < 10:
            out.append(int(value))
        else:
            out.append(by_email.get(value.lower()))
    return out


def _comment_rows(queryset: QuerySet[Comment]) -> list[dict[str, Any]]:
    return [
        {
            "id": c["id"],
            "author": c["author__full_name"],
            "department": c["author__department__slug"],
            "body": c["body"],
            "created_at": rows.iso(c["created_at"]),
            "edited_at": rows.iso(c["edited_at"]),
        }
        for c in queryset.order_by("created_at", "id").values(
            "id", "author__full_name", "author__department__slug", "body", "created_at", "edited_at"
        )
    ]


# --- the change feed --------------------------------------------------------------------------


class ChangeFeedView(APIView):
    """The exact change feed (SPEC §6; how it works: `proposals/api/changes.py`).

    An APIView, not a viewset's `list`: the answer is one object, not an array.
    """

    @extend_schema(
        parameters=[s.ChangesIn],
        responses={
            200: s.ChangesOut,
            410: OpenApiResponse(
                s.ErrorOut,
                description=(
                    "`cursor_expired`: the cursor is older than the log keeps changes "
                    "(API_CHANGES_RETENTION_DAYS, less a day): clear your copy and start "
                    "again without a cursor"
                ),
            ),
        },
        summary="Every change to proposals you may see, in commit order",
        description=(
            "Start without a cursor: you get every proposal you may see as "
            "`proposal.upserted`. Then send `next_cursor` back, at once while `has_more` "
            "is true, and every few seconds after. Nothing is held back and nothing is "
            "missed, however long a writing transaction runs. `proposal.removed` means "
            "delete your copy: the proposal was deleted, merged into another, or you may "
            "no longer see it. A cursor is good for API_CHANGES_RETENTION_DAYS less a day (89 "
            "days by default; a 410 after that). See docs/api.md "
            "for a worked example."
        ),
        examples=[
            OpenApiExample(
                "A few changes",
                response_only=True,
                value={
                    "next_cursor": "eyJkIjoiNzI2NTo3MjY1OiJ9:1xZ0Go:Qd81-xw",
                    "has_more": False,
                    "results": [
                        {
                            "cursor": "eyJkIjoiNzI2MDo3MjYwOiJ9:1xZ0Fn:72t-Ap4",
                            "type": "proposal.upserted",
                            "reference": "DFE-2026-0042",
                            "id": "6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
                            "occurred_at": "2026-11-28T09:30:00Z",
                            "data": {"reference": "DFE-2026-0042", "title": "…", "…": "…"},
                        },
                        {
                            "cursor": "eyJkIjoiNzI2NTo3MjY1OiJ9:1xZ0Go:Qd81-xw",
                            "type": "proposal.removed",
                            "reference": "DFE-2026-0017",
                            "id": "0b7d4c2e-9a8f-4e3d-b2c1-a0f9e8d7c6b5",
                            "occurred_at": "2026-11-28T09:31:12Z",
                            "data": None,
                        },
                    ],
                },
            )
        ],
    )
    def get(self, request: AuthedRequest) -> Response:
        params = validated(s.ChangesIn, request.query_params)
        return Response(
            changes.read(request.user, params.get("cursor") or None, params.get("page_size", 100))
        )


# --- experiments and outcomes ----------------------------------------------------------------


class ExperimentViewSet(viewsets.GenericViewSet):
    """Experiments of proposals you may see, with their metrics."""

    pagination_class = UpdatedAtCursorPagination
    serializer_class = s.ExperimentOut
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Experiment]:
        return selectors.experiments_visible_to(self.request.user)

    @extend_schema(
        parameters=[s.ExperimentFilters],
        responses={200: s.ExperimentOut(many=True)},
        summary="Experiments, ordered by (updated_at, id)",
    )
    def list(self, request: AuthedRequest) -> Response:
        filters = validated(s.ExperimentFilters, request.query_params)
        queryset = settled(filter_experiments(self.get_queryset(), filters))
        paginator = UpdatedAtCursorPagination()
        page = paginator.paginate_queryset(queryset.values("id", "updated_at"), request)
        by_id = {
            row["id"]: row
            for row in rows.experiment_rows(
                Experiment.objects.filter(pk__in=[r["id"] for r in page])
            )
        }
        return Response(paginator.get_paginated_response_data([by_id[r["id"]] for r in page]))

    @extend_schema(responses={200: s.ExperimentOut}, summary="One experiment")
    def retrieve(self, request: AuthedRequest, pk: str) -> Response:
        found = rows.experiment_rows(self.get_queryset().filter(pk=int(pk)))
        if not found:
            raise NotFound("Not found")
        return Response(found[0])

    @extend_schema(
        request=None,
        responses={200: s.ExperimentOut},
        summary="Start a planned experiment (the department's lead or the experiment's lead)",
        description=(
            "409 when it is not planned; 400 with `errors.evaluation_plan` when the "
            "department asks for an evaluation plan first and there is none."
        ),
    )
    @action(detail=True, methods=["post"])
    def start(self, request: AuthedRequest, pk: str) -> Response:
        experiment = get_object_or_404(
            self.get_queryset().select_related("proposal__department"), pk=int(pk)
        )
        no_body(request)
        services.experiment_start(experiment=experiment, actor=request.user)
        return Response(rows.experiment_rows(Experiment.objects.filter(pk=experiment.pk))[0])


class EvaluationViewSet(viewsets.GenericViewSet):
    """Evaluation plans (Magenta Book) of experiments of proposals you may see,
    in the Evaluation Registry's fields."""

    pagination_class = UpdatedAtCursorPagination
    serializer_class = s.EvaluationOut
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[EvaluationPlan]:
        return selectors.evaluations_visible_to(cast(User, self.request.user))

    @staticmethod
    def _records(queryset: QuerySet[EvaluationPlan]) -> dict[int, dict[str, Any]]:
        return {
            record["id"]: {
                key: rows.iso(value) if isinstance(value, dt.date) else value
                for key, value in record.items()
            }
            for record in reports.registry_records(queryset)
        }

    @extend_schema(
        parameters=[s.EvaluationFilters],
        responses={200: s.EvaluationOut(many=True)},
        summary="Evaluation plans, ordered by (updated_at, id)",
    )
    def list(self, request: AuthedRequest) -> Response:
        filters = validated(s.EvaluationFilters, request.query_params)
        queryset = self.get_queryset()
        if "proposal" in filters:
            queryset = queryset.filter(
                experiment__proposal__reference=str(filters["proposal"]).upper()
            )
        if "status" in filters:
            queryset = queryset.alias(registry_status=registry.status_expression()).filter(
                registry_status=filters["status"]
            )
        if "updated_after" in filters:
            queryset = queryset.filter(updated_at__gt=filters["updated_after"])
        paginator = UpdatedAtCursorPagination()
        page = paginator.paginate_queryset(settled(queryset).values("id", "updated_at"), request)
        by_id = self._records(EvaluationPlan.objects.filter(pk__in=[r["id"] for r in page]))
        return Response(paginator.get_paginated_response_data([by_id[r["id"]] for r in page]))

    @extend_schema(responses={200: s.EvaluationOut}, summary="One evaluation plan")
    def retrieve(self, request: AuthedRequest, pk: str) -> Response:
        found = self._records(self.get_queryset().filter(pk=int(pk)))
        if not found:
            raise NotFound("Not found")
        return Response(found[int(pk)])


class OutcomeViewSet(viewsets.GenericViewSet):
    """The lessons library: published outcomes, with each metric's actual value."""

    pagination_class = UpdatedAtCursorPagination
    serializer_class = s.OutcomeOut
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.published_outcomes_visible_to(self.request.user)

    @extend_schema(
        parameters=parameters(ApiOutcomeFilter),
        responses={200: s.OutcomeOut(many=True)},
        summary="Published outcomes, ordered by (updated_at, id)",
    )
    def list(self, request: AuthedRequest) -> Response:
        queryset = settled(filtered(ApiOutcomeFilter, self.get_queryset(), request.query_params))
        paginator = UpdatedAtCursorPagination()
        page = paginator.paginate_queryset(queryset.values("id", "updated_at"), request)
        by_id = {
            row["id"]: row
            for row in rows.outcome_rows(Outcome.objects.filter(pk__in=[r["id"] for r in page]))
        }
        return Response(paginator.get_paginated_response_data([by_id[r["id"]] for r in page]))

    @extend_schema(responses={200: s.OutcomeOut}, summary="One published outcome")
    def retrieve(self, request: AuthedRequest, pk: str) -> Response:
        found = rows.outcome_rows(self.get_queryset().filter(pk=int(pk)))
        if not found:
            raise NotFound("Not found")
        return Response(found[0])


# --- reference data ----------------------------------------------------------------------------


class DepartmentViewSet(viewsets.GenericViewSet):
    pagination_class = None
    serializer_class = s.DepartmentOut
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]{1,64}"
    queryset = Department.objects.order_by("name")

    @extend_schema(responses={200: s.DepartmentOut(many=True)}, summary="Departments")
    def list(self, request: AuthedRequest) -> Response:
        return Response(rows.department_rows(self.get_queryset()))

    @extend_schema(responses={200: s.DepartmentOut}, summary="One department")
    def retrieve(self, request: AuthedRequest, slug: str) -> Response:
        found = rows.department_rows(self.get_queryset().filter(slug=slug))
        if not found:
            raise NotFound("Not found")
        return Response(found[0])

    @extend_schema(
        responses={200: s.CriterionOut(many=True)},
        summary="The department's active assessment criteria, in order",
        description=(
            "What `assess/` scores: send each criterion's `id` with a score from 1 to 5. "
            "Weights are relative: the weighted score is the weights-normalised mean."
        ),
    )
    @action(detail=True, methods=["get"])
    def criteria(self, request: AuthedRequest, slug: str) -> Response:
        department = get_object_or_404(self.get_queryset(), slug=slug)
        return Response(
            rows.criterion_rows(
                Criterion.objects.filter(department=department, active=True).order_by(
                    "position", "id"
                )
            )
        )


class ThemeViewSet(viewsets.GenericViewSet):
    pagination_class = None
    serializer_class = s.ThemeOut
    queryset = Theme.objects.order_by("name")

    @extend_schema(responses={200: s.ThemeOut(many=True)}, summary="Themes")
    def list(self, request: AuthedRequest) -> Response:
        return Response(rows.theme_rows(self.get_queryset()))


class ChallengeViewSet(viewsets.GenericViewSet):
    pagination_class = None
    serializer_class = s.ChallengeOut
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]{1,100}"
    queryset = Challenge.objects.order_by("closes_on", "title")

    @extend_schema(responses={200: s.ChallengeOut(many=True)}, summary="Calls for ideas")
    def list(self, request: AuthedRequest) -> Response:
        return Response(rows.challenge_rows(self.get_queryset()))

    @extend_schema(responses={200: s.ChallengeOut}, summary="One challenge")
    def retrieve(self, request: AuthedRequest, slug: str) -> Response:
        found = rows.challenge_rows(self.get_queryset().filter(slug=slug))
        if not found:
            raise NotFound("Not found")
        return Response(found[0])


# --- reports ------------------------------------------------------------------------------------


REPORT_MEDIA_TYPES = {
    "csv": "text/csv",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "json": "application/json",
}


class AnyFileRenderer(BaseRenderer):
    """Lets a download answer whatever the report's format is."""

    media_type = "*/*"
    format = "file"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> Any:
        return data


class ReportViewSet(viewsets.GenericViewSet):
    """Your reports: request one, watch its progress, download it."""

    pagination_class = None
    serializer_class = s.ReportOut
    lookup_value_regex = r"[0-9a-fA-F-]{32,36}"

    def get_queryset(self) -> QuerySet[Report]:
        return Report.objects.filter(requested_by=cast(User, self.request.user)).order_by(
            "-created_at"
        )

    def _row(self, request: AuthedRequest, report: Report) -> dict[str, Any]:
        url = None
        if report.status == ReportStatus.DONE and report.file:
            url = request.build_absolute_uri(f"/api/v1/reports/{report.pk}/download/")
        return rows.report_row(report, url)

    def _get(self, pk: str) -> Report:
        try:
            key = uuid.UUID(pk)
        except ValueError:
            raise NotFound("Not found") from None
        return get_object_or_404(self.get_queryset(), pk=key)

    @extend_schema(responses={200: s.ReportOut(many=True)}, summary="Your latest 100 reports")
    def list(self, request: AuthedRequest) -> Response:
        return Response([self._row(request, r) for r in self.get_queryset()[:100]])

    @extend_schema(
        request=s.ReportIn,
        responses={201: s.ReportOut},
        summary="Request a report (leads and analysts)",
        description="Queued at once; poll the report for `progress` and its `download_url`.",
    )
    def create(self, request: AuthedRequest) -> Response:
        serializer = s.ReportIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            filters = report_filters(dict(data.get("filters") or {}))
        except DjangoValidationError as error:
            raise ValidationError({"filters": error.message_dict}) from None
        report = services.report_request(
            user=request.user, kind=data["kind"], format=data["format"], filters=filters
        )
        return Response(self._row(request, report), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ReportOut}, summary="A report's status and progress")
    def retrieve(self, request: AuthedRequest, pk: str) -> Response:
        return Response(self._row(request, self._get(pk)))

    @extend_schema(
        responses={
            (200, media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="The report file, in the format asked for."
            )
            for media_type in REPORT_MEDIA_TYPES.values()
        },
        parameters=[
            OpenApiParameter(
                "Content-Disposition",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                required=True,
                description='`attachment; filename="<kind>-<yyyymmdd-hhmm>.<format>"`',
            )
        ],
        summary="Download a finished report",
        description=(
            "The file itself (a binary body in the report's format, with "
            "`Content-Disposition: attachment`), not JSON about it. 409 while it is still "
            "being built, or once it has expired."
        ),
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, AnyFileRenderer])
    def download(self, request: AuthedRequest, pk: str) -> Any:
        report = self._get(pk)
        if report.status != ReportStatus.DONE or not report.file:
            raise Conflict(f"This report is {report.get_status_display().lower()}, not ready")
        return FileResponse(
            report.file.open("rb"),
            as_attachment=True,
            filename=f"{report.kind}-{report.created_at:%Y%m%d-%H%M}.{report.format}",
            content_type=REPORT_MEDIA_TYPES.get(report.format, "application/octet-stream"),
        )


# --- webhooks -----------------------------------------------------------------------------------


class WebhookViewSet(viewsets.GenericViewSet):
    """A department lead's webhook endpoints and their deliveries."""

    pagination_class = None
    serializer_class = s.WebhookOut
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        user = cast(User, self.request.user)
        if not perms.can_configure(user, user.department):
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(department_id=user.department_id).order_by("id")

    @extend_schema(responses={200: s.WebhookOut(many=True)}, summary="Your department's webhooks")
    def list(self, request: AuthedRequest) -> Response:
        if not perms.can_configure(request.user, request.user.department):
            raise PermissionDenied("Only a department's portfolio lead can manage its webhooks")
        return Response([rows.webhook_row(e) for e in self.get_queryset()])

    @extend_schema(
        request=s.WebhookIn,
        responses={201: s.WebhookCreatedOut},
        summary="Register an HTTPS endpoint (department leads)",
    )
    def create(self, request: AuthedRequest) -> Response:
        serializer = s.WebhookIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, _secret = services.webhook_register(
            actor=request.user,
            url=serializer.validated_data["url"],
            events=serializer.validated_data["events"],
        )
        return Response(rows.webhook_row(endpoint, secret=True), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: s.WebhookCreatedOut},
        summary="Rotate an endpoint's signing secret (department leads)",
        description=(
            "Returns the new secret, once. The old one keeps signing beside it (two "
            "`v1,` signatures in `webhook-signature`) until `previous_secret_valid_until`, "
            "so the receiver can change over without dropping a delivery."
        ),
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: AuthedRequest, pk: str) -> Response:
        no_body(request)
        endpoint = get_object_or_404(self.get_queryset(), pk=int(pk))
        services.webhook_rotate_secret(actor=request.user, endpoint=endpoint)
        endpoint.refresh_from_db()
        return Response(rows.webhook_row(endpoint, secret=True))

    @extend_schema(
        request=None,
        responses={200: s.WebhookOut},
        summary="Stop signing with the secret a rotation replaced (department leads)",
    )
    @action(detail=True, methods=["post"], url_path="retire-previous-secret")
    def retire_previous_secret(self, request: AuthedRequest, pk: str) -> Response:
        no_body(request)
        endpoint = get_object_or_404(self.get_queryset(), pk=int(pk))
        endpoint = services.webhook_retire_previous_secret(actor=request.user, endpoint=endpoint)
        return Response(rows.webhook_row(endpoint))

    @extend_schema(
        responses={200: s.DeliveryOut(many=True)},
        summary="An endpoint's latest 100 deliveries, newest first",
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: AuthedRequest, pk: str) -> Response:
        endpoint = get_object_or_404(self.get_queryset(), pk=int(pk))
        return Response(
            rows.delivery_rows(
                WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at")[:100]
            )
        )
