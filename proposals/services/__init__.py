"""Every write to the domain: pages, the API, tasks and commands all call these.

Each service is keyword-only, runs in one transaction, writes its audit event
(`base.audit`) and notifications inside that transaction, and queues work for
the workers on commit through `dispatch`, so a rolled-back action leaves no
trace. One module per concept; this package's namespace is the public surface
(`services.proposal_transition(...)`).

Errors (`proposals.exceptions`): `ValidationError` (a field → messages dict)
for bad input, `ActionNotAllowed` for a forbidden action on a visible object,
`InvalidTransition` when the object is not (or no longer) in a state that
allows the action, `StaleVersion` for an optimistic-concurrency clash.
"""

from proposals.exceptions import ActionNotAllowed, InvalidTransition, StaleVersion
from proposals.services.assessments import (
    assessment_declare_conflict,
    assessment_submit,
    feedback_release,
)
from proposals.services.attachments import (
    ATTACHMENT_TYPES,
    ATTACHMENTS_PER_PROPOSAL,
    attachment_add,
    attachment_delete,
)
from proposals.services.base import (
    audit,
)
from proposals.services.challenges import (
    challenge_close,
    challenge_create,
)
from proposals.services.conversation import (
    comment_add,
    comment_edit,
    support_add,
    support_remove,
)
from proposals.services.departments import (
    DEPARTMENT_SETTINGS,
    department_configure,
    user_move_department,
    user_set_role,
)
from proposals.services.evaluations import evaluation_plan_save
from proposals.services.experiments import (
    benefit_review_record,
    experiment_plan,
    experiment_start,
    experiment_stop,
    outcome_publish,
    outcome_record,
    proposal_adopt,
)
from proposals.services.feed import change_log_compact
from proposals.services.follows import follow_add, follow_remove
from proposals.services.invitations import (
    invitation_accept,
    invitation_create,
    invitation_refusal,
    invitation_revoke,
)
from proposals.services.proposals import (
    EDITABLE_FIELDS,
    EDITABLE_RELATIONS,
    next_reference,
    proposal_create_draft,
    proposal_delete_draft,
    proposal_propose_again,
    proposal_transition,
    proposal_update,
    proposals_accept_many,
)
from proposals.services.reports import (
    report_cancel,
    report_request,
    report_retry,
)
from proposals.services.similarity import similarity_catch_up, similarity_index
from proposals.services.tokens import (
    api_token_create,
    api_token_revoke,
    hash_token,
)
from proposals.services.webhooks import (
    emit_webhook,
    validate_url,
    webhook_deactivate,
    webhook_register,
    webhook_retire_previous_secret,
    webhook_rotate_secret,
    webhook_send_test,
)

__all__ = [
    "ATTACHMENTS_PER_PROPOSAL",
    "ATTACHMENT_TYPES",
    "DEPARTMENT_SETTINGS",
    "EDITABLE_FIELDS",
    "EDITABLE_RELATIONS",
    "ActionNotAllowed",
    "InvalidTransition",
    "StaleVersion",
    "api_token_create",
    "api_token_revoke",
    "assessment_declare_conflict",
    "assessment_submit",
    "attachment_add",
    "attachment_delete",
    "audit",
    "benefit_review_record",
    "challenge_close",
    "challenge_create",
    "change_log_compact",
    "comment_add",
    "comment_edit",
    "department_configure",
    "emit_webhook",
    "evaluation_plan_save",
    "experiment_plan",
    "experiment_start",
    "experiment_stop",
    "feedback_release",
    "follow_add",
    "follow_remove",
    "hash_token",
    "invitation_accept",
    "invitation_create",
    "invitation_refusal",
    "invitation_revoke",
    "next_reference",
    "outcome_publish",
    "outcome_record",
    "proposal_adopt",
    "proposal_create_draft",
    "proposal_delete_draft",
    "proposal_propose_again",
    "proposal_transition",
    "proposal_update",
    "proposals_accept_many",
    "report_cancel",
    "report_request",
    "report_retry",
    "similarity_catch_up",
    "similarity_index",
    "support_add",
    "support_remove",
    "user_move_department",
    "user_set_role",
    "validate_url",
    "webhook_deactivate",
    "webhook_register",
    "webhook_retire_previous_secret",
    "webhook_rotate_secret",
    "webhook_send_test",
]
