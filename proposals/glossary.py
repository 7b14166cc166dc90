"""The meaning of every field the service gives out: API resources and export columns.

The one copy of these words. The OpenAPI schema takes them (a field's own
`help_text` comes first; `api/schema.fill_descriptions` adds these where it
has none), the data dictionary (`/api/data-dictionary/`, `docs/data-dictionary.md`)
is generated from the schema and the export columns, and the open dataset's table
schema uses them too. Types and allowed values are never written here: they
come from the serializers, the models and `enums.py`.

A leaf: words only, importing nothing of the domain.
"""

from __future__ import annotations

# Meanings by field name, for any resource with a field of that name that has no word below.
COMMON: dict[str, str] = {
    "id": "The object's identifier, stable for its life.",
    "slug": "Its short name, used in addresses, filters and request bodies; stable.",
    "name": "Its name.",
    "acronym": "The department's short name, e.g. DfE.",
    "title": "Its title.",
    "description": "What it covers.",
    "created_at": "When it was created (ISO 8601, with its time zone).",
    "updated_at": "When it last changed (ISO 8601, with its time zone).",
    "next": "The address of the next page, or null on the last page.",
    "previous": "The address of the previous page, or null on the first page.",
    "results": "This page's objects.",
}

# Meanings by resource (the schema's component name, without `Request` or `Patched`).
RESOURCES: dict[str, dict[str, str]] = {
    "ProposalOut": {
        "id": "The proposal's identifier (a UUID), stable for its life.",
        "reference": (
            "The proposal's reference, `<department acronym>-<year>-<number>`, "
            "e.g. `DFE-2026-0042`; unique and never reused."
        ),
        "title": "Its title, in the author's words (up to 150 characters).",
        "summary": "Its summary, in the author's words (up to 500 characters).",
        "problem": "The answer to “What problem are you trying to solve?”.",
        "who_has_the_problem": "The answer to “Who has this problem?”.",
        "proposed_solution": "The answer to “What do you propose?”.",
        "expected_benefits": "The answer to “What benefits do you expect?”.",
        "cost_band": "The author's estimate of its cost, as a band; empty if not given.",
        "estimated_benefit_gbp": (
            "The author's estimate of its benefit, in whole pounds a year; null if not given."
        ),
        "hours_saved_per_year": (
            "The author's estimate of the staff hours it saves a year; null if not given."
        ),
        "department": "The owning department, which triages, assesses and decides it.",
        "collaborating_departments": (
            "Slugs of the departments working on it with the owner, who see it as the owner does."
        ),
        "themes": "Slugs of its themes.",
        "challenge": "The slug of the challenge it answers, or null.",
        "status": "Where it is in the workflow.",
        "visibility": (
            "Who may see it once submitted: everyone across government, or only the "
            "owning and collaborating departments (and its authors)."
        ),
        "submitted_at": "When it was first submitted; null while it is a draft.",
        "decided_at": "When it was approved or rejected; null before that.",
        "url": "Its page on the service.",
    },
    "ProposalDetailOut": {
        "experiments": "Its experiments, oldest first.",
        "outcomes": (
            "The outcomes of its experiments that you may read: published ones, and "
            "unpublished ones for the owning department's reviewers and leads."
        ),
        "support_count": "How many people support it.",
    },
    "ProposalWrite": {
        "department": "Not sent: the owning department is the author's.",
        "collaborating_departments": "Slugs of the departments working on it with the owner.",
    },
    "DepartmentOut": {
        "slug": "The department's short name in addresses and filters, e.g. `dfe`.",
        "name": "The department's name.",
        "parent": "The slug of the department it is part of (an agency's department), or null.",
    },
    "DecisionOut": {
        "kind": "What was decided.",
        "rationale": "The reason given for it.",
        "decided_by": "The name of the person who decided.",
        "decided_at": "When it was decided.",
    },
    "MetricOut": {
        "id": "The metric's identifier.",
        "name": "What is measured.",
        "unit": "The unit it is measured in, e.g. days or %.",
        "baseline": "Its value before the experiment.",
        "target": "The value that means the experiment succeeded.",
        "direction": "Whether success is the measure going up or down.",
    },
    "MetricActualOut": {
        "metric": "The metric's identifier.",
        "actual": "The value measured at the end of the experiment.",
    },
    "ExperimentOut": {
        "id": "The experiment's identifier.",
        "title": "The experiment's title.",
        "we_believe": "The hypothesis: “We believe that …” (the change tried).",
        "will_result_in": "The hypothesis: “… will result in …” (the effect expected).",
        "we_will_know_when": "The hypothesis: “We will know we are right when …”.",
        "lead": "The name of the person leading the experiment.",
        "starts_on": "The date it is planned to start.",
        "ends_on": "The date it is planned to end.",
        "budget_gbp": "Its budget, in whole pounds.",
        "status": "Where the experiment is.",
        "started_at": "When it was started; null while planned.",
        "stopped_at": "When it was completed or stopped early; null before that.",
        "metrics": "How its success is measured.",
    },
    "OutcomeOut": {
        "id": "The outcome's identifier.",
        "experiment": "The experiment's identifier.",
        "experiment_title": "The experiment's title.",
        "result": "Whether the experiment's hypothesis held.",
        "lessons": "What was learned, failures included, in the lead's words.",
        "recommendation": "What the lead recommends next.",
        "realised_benefit_gbp": (
            "The benefit realised, in whole pounds a year; null if not recorded."
        ),
        "published": "Whether it is published to the lessons library.",
        "published_at": "When it was published; null before that.",
        "metric_actuals": "Each metric with the value measured.",
    },
    "ScoreOut": {
        "criterion": "The criterion's identifier.",
        "criterion_name": "The criterion's name.",
        "score": "The score, from 1 (poor) to 5 (excellent).",
        "comment": "The assessor's comment against this criterion.",
    },
    "AssessmentOut": {
        "id": "The assessment's identifier.",
        "assessor": "The assessor's name.",
        "conflict_declared": (
            "The assessor's declaration of a conflict of interest; null until they declare."
        ),
        "conflict_details": "What the conflict is, if one was declared.",
        "recommendation": "`fund` or `do_not_fund`; empty until the assessment is submitted.",
        "comment": "The assessor's overall comment.",
        "weighted_score": (
            "The scores weighted by the department's criteria, 1 to 5; null until submitted."
        ),
        "submitted_at": "When the assessment was submitted; null before that.",
        "scores": "The score against each criterion.",
    },
    "CommentOut": {
        "id": "The comment's identifier.",
        "author": "The commenter's name.",
        "department": "The name of the commenter's department.",
        "body": "The comment.",
        "edited_at": "When it was last edited; null if never.",
    },
    "SupportOut": {
        "count": "How many people support the proposal.",
        "supported_by_you": "Whether you support it.",
    },
    "CriterionOut": {
        "name": "The criterion's name.",
        "description": "What assessors judge against it.",
    },
    "ThemeOut": {"description": "What the theme covers."},
    "ChallengeOut": {
        "title": "The challenge's title.",
        "question": "The question it asks civil servants to answer.",
        "themes": "Slugs of its themes.",
        "opens_on": "The date it opens for proposals.",
        "closes_on": "The date it closes.",
        "is_open": "Whether it takes proposals today.",
    },
    "ReportOut": {
        "id": "The report's identifier.",
        "kind": "Which report.",
        "format": "Its file format.",
        "filters": "The proposal filters it was built with (status, department, theme, search).",
        "status": "Where its build is.",
        "row_count": "Data rows written so far.",
        "error": "Why it failed, in plain English; empty otherwise.",
        "started_at": "When its latest build started; null while queued.",
        "finished_at": "When its build finished; null before that.",
        "expires_at": "When its file is deleted; null until it is ready.",
    },
    "WebhookOut": {
        "id": "The endpoint's identifier.",
        "url": "The HTTPS address deliveries are posted to.",
        "events": "The events it receives.",
        "active": "Whether deliveries are sent to it.",
    },
    "DeliveryOut": {
        "id": "The delivery's identifier (its `webhook-id` header).",
        "event": "The event delivered.",
        "status": "Where the delivery is.",
        "attempts": "How many tries have been made.",
        "response_status": "The HTTP status of the latest answer; null if none came.",
        "last_error": "The latest try's error in plain words; empty if none.",
        "delivered_at": "When it was delivered; null before that.",
        "payload": "The JSON body sent.",
    },
    "AttemptOut": {
        "started_at": "When the try started.",
        "response_status": "The receiver's HTTP status; null if it never answered.",
    },
    "ChangeOut": {
        "type": (
            "`proposal.upserted`: the proposal as you may see it now; `proposal.removed`: "
            "deleted, merged away or no longer visible to you."
        ),
        "reference": "The proposal's reference.",
        "id": "The proposal's identifier.",
    },
    "ChangesOut": {"results": "The changes, in commit order."},
    "ErrorOut": {"detail": "What went wrong, in plain English."},
    "AssessIn": {
        "conflict_details": "What the conflict is, if you declare one.",
        "scores": "One score for each of the department's active criteria.",
        "recommendation": "Whether you recommend funding; required with `scores`.",
        "comment": "Your overall comment.",
    },
    "ScoreIn": {
        "criterion": "The criterion's identifier (`GET /api/v1/departments/<slug>/criteria/`).",
        "score": "Your score, from 1 (poor) to 5 (excellent).",
        "comment": "Your comment against this criterion.",
    },
    "CloseIn": {"next_step": "What happens after the experiments."},
    "CommentIn": {"body": "The comment (up to 5,000 characters)."},
    "DecideIn": {
        "decision": "Approve or reject.",
        "rationale": "The reason, shown to the authors.",
    },
    "ReportFiltersIn": {
        "status": "Only proposals in this status.",
        "department": "Only this department's proposals (its slug).",
        "theme": "Only proposals with this theme (its slug).",
        "search": "Only proposals matching these words.",
    },
    "ReportIn": {
        "kind": "Which report.",
        "format": "Its file format.",
        "filters": "Which proposals it covers; all you may see without it.",
    },
    "TriageIn": {
        "action": (
            "`accept` (on to assessment), `request_info` (ask the authors for more) or `reject`."
        ),
    },
    "WebhookIn": {"events": "The events to receive (one to three)."},
    "SimilarIn": {
        "title": "The draft's title (up to 150 characters).",
        "summary": "The draft's summary (up to 500 characters); optional.",
        "problem": "The problem the draft solves; optional.",
    },
    "SimilarOut": {
        "reference": "The similar proposal's reference (a lesson's is its proposal's).",
        "department": "The department that owns it.",
        "status": "Where the proposal is in the workflow.",
    },
    "SimilarListOut": {"results": "Up to 5 proposals and lessons, most alike first."},
}

# Where a resource without its own word for a field borrows one.
BORROWS: dict[str, tuple[str, ...]] = {
    "ProposalDetailOut": ("ProposalOut",),
    "ProposalWrite": ("ProposalOut",),
    "DepartmentRefOut": ("DepartmentOut",),
    "MetricActualOut": ("MetricOut",),
    "WebhookCreatedOut": ("WebhookOut",),
    "EvaluationOut": ("EvaluationRegistry",),
    "ChangeOut": ("ProposalOut",),
}

# --- the Evaluation Registry hand-off (report kind `evaluation_registry`, and the API) ------

REGISTRY_INTRODUCTION = (
    "Since 1 April 2024 every planned, live and completed government evaluation must be "
    "registered on the Evaluation Task Force's Evaluation Registry, and its report "
    "published within 12 weeks of sign-off. The Registry has no write API, so departments "
    "re-key: this report holds what they type, one row per evaluation plan (an "
    "experiment's plan, to HM Treasury's Magenta Book), in CSV, ODS or JSON. The same "
    "fields are served by `GET /api/v1/evaluations/`. The rules behind `status` and "
    "`visibility` live in one place, `proposals/registry.py`."
)
REGISTRY_FORMATS = (
    "Dates are ISO 8601 (`2026-06-19`); lists are `;`-separated with no spaces "
    "(`impact;economic`) in every format of the report, and JSON arrays in the API; an "
    'empty cell (CSV, ODS) or `""`/`null` (JSON) means not recorded.'
)

RESOURCES["EvaluationRegistry"] = {
    "id": "The evaluation plan's identifier.",
    "reference": (
        "The evaluation's reference: the proposal's reference and the experiment's number, "
        "`<reference>-E<experiment id>`, e.g. `DFE-2026-0042-E17`."
    ),
    "title": "The experiment's title.",
    "lead_department": (
        "The name of the department leading the evaluation (by default the proposal's department)."
    ),
    "partner_departments": (
        "Names of the partner departments (by default the proposal's collaborating "
        "departments), in name order."
    ),
    "status": (
        "`complete` once a report link or a publication date is recorded; otherwise "
        "`ongoing` once the experiment has started (running, completed or stopped) or the "
        "evaluation's actual start is recorded; otherwise `planned`."
    ),
    "evaluation_types": "The Magenta Book types (`economic` is economic or value for money).",
    "impact_designs": (
        "For an impact evaluation: experimental, quasi-experimental, theory-based or "
        "generic designs. Empty unless `impact` is a type."
    ),
    "process_designs": "For a process evaluation. Empty unless `process` is a type.",
    "economic_designs": "For an economic evaluation. Empty unless `economic` is a type.",
    "brief_description": "What the evaluation will find out and how.",
    "evaluation_cost_gbp": (
        "The evaluation's cost in whole pounds (not the experiment's budget), or empty."
    ),
    "plan_link": "The published evaluation plan (`https://`), or empty.",
    "link_to_published_evaluation": "The published report (`https://`), or empty.",
    "reasons_unpublished": "Why the report is not published; always empty once it is.",
    "visibility": (
        "`public` once the report is published (a report link is recorded); `civil_service` before."
    ),
    "evaluation_start": (
        "The evaluation's actual start once recorded, its intended start until then."
    ),
    "evaluation_end": "Likewise, the evaluation's end.",
    "intervention_start": (
        "The intervention's actual start once recorded, its intended start until then."
    ),
    "intervention_end": "Likewise, the intervention's end.",
    "final_report_due": "When the final report is intended to be due.",
    "final_report_published": "When the final report was published, or empty.",
    "updated_at": "When the plan last changed.",
}

# --- export columns ----------------------------------------------------------------------
# By the column's source (a model path, or a computed name). A source without a word here
# borrows the word of the API field it is (EXPORT_BORROWS), so the two never drift.

COLUMNS: dict[str, str] = {
    "department__name": "The owning department's name.",
    "department__acronym": "The owning department's acronym.",
    "themes": "The names of its themes, separated by `; `.",
    "collaborating_departments": "The names of its collaborating departments, separated by `; `.",
    "challenge__title": "The title of the challenge it answers, or empty.",
    "submitter__full_name": "The name of the person who wrote it.",
    "decision_kind": "The latest decision you may read, or empty.",
    "decision_rationale": "The reason given for that decision.",
    "merged_into__reference": "The surviving proposal's reference, once merged; else empty.",
    "experiment__proposal__reference": "The proposal's reference.",
    "experiment__proposal__title": "The proposal's title.",
    "experiment__proposal__department__name": "The name of the proposal's owning department.",
    "experiment__proposal__url": "The proposal's page on the service.",
    "metrics": (
        "Each metric as `<name>: baseline <b>, target <t> <unit>, actual <a>`, separated by `; `."
    ),
}

# A source's prefix → the API resource whose field of the rest of the name it is.
EXPORT_BORROWS: tuple[tuple[str, str], ...] = (
    ("experiment__proposal__", "ProposalOut"),
    ("experiment__", "ExperimentOut"),
    ("", "ProposalOut"),
    ("", "OutcomeOut"),
)

# The portfolio summary's tables (report kind `portfolio`): table → column → meaning.
PORTFOLIO: dict[str, dict[str, str]] = {
    "Summary": {
        "Figure": "Which figure of your /portfolio/ page.",
        "Value": (
            "Its value: a count, a number of days, or pounds a year; for “Figures as of”,"
            " when the figures were computed, as the page says it (“10:42am on 7 December 2026”)."
        ),
    },
    "By stage, department and theme": {
        "Status": "The proposals' status (its label).",
        "Department": "The owning department's name.",
        "Theme": "A theme's name, or “No theme”; a proposal with two themes counts in both.",
        "Proposals": "How many proposals.",
    },
    "Days to decision": {
        "Department": "The owning department's name, or “All departments”.",
        "Proposals decided": "How many were approved or rejected.",
        "Median days to decision": "The median of the days from submission to decision.",
    },
    "Experiment results": {
        "Department": "The owning department's name.",
        "Result": "The outcomes' result.",
        "Outcomes": "How many outcomes.",
    },
    "Estimated and realised benefit": {
        "Department": "The owning department's name.",
        "Proposals approved": "How many of its proposals were approved.",
        "Estimated benefit (£ a year)": "The authors' estimates, summed, of approved proposals.",
        "Realised benefit (£ a year)": "The realised benefit recorded in outcomes, summed.",
    },
}

# --- the open dataset --------------------------------------------------------------------

LESSONS_DATASET = {
    "title": "Lessons from government innovation experiments",
    "description": (
        "What UK government departments learned from time-boxed experiments with new ideas, "
        "failures included: the hypothesis each experiment tested, its result, the "
        "recommendation and the lessons, for every published outcome of a proposal shared "
        "across government. Refreshed every hour."
    ),
}


def resource_name(component: str) -> str:
    """A schema component's resource: `PatchedProposalWriteRequest` → `ProposalWrite`."""
    return component.removeprefix("Patched").removesuffix("Request")


def meaning(resource: str, field: str) -> str:
    """The word for a field of a resource: its own, a borrowed one, or the common one."""
    seen: list[str] = [resource]
    while seen:
        name = seen.pop(0)
        word = RESOURCES.get(name, {}).get(field)
        if word:
            return word
        seen.extend(BORROWS.get(name, ()))
    if resource.startswith("Paginated") and field == "results":
        return COMMON["results"]
    return COMMON.get(field, "")


def column_meaning(source: str) -> str:
    """The word for an export column by its source, or the API field's it borrows."""
    if COLUMNS.get(source):
        return COLUMNS[source]
    for prefix, resource in EXPORT_BORROWS:
        if source.startswith(prefix) and "__" not in source.removeprefix(prefix):
            word = meaning(resource, source.removeprefix(prefix))
            if word:
                return word
    return ""
