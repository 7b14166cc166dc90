"""The list filters: one FilterSet for proposals and one for outcomes.

Every door that filters a list uses them — the Find proposals page, the review
queue, the API's lists, the report request and the report (and export) it
builds — so a filter means the same thing, and a bad value gets the same
plain-English message, wherever it is typed: a GOV.UK error summary on a page,
a 400 with field messages from the API, a field error on the report request.

A door is a subclass that names the query parameters it takes (`parameters`,
its public contract) and how its form shows them (`options`: widget, label,
hint); the filter itself — what the value may be, its message, the query it
adds — is declared once, on the base class. Filters narrow a queryset the door
already took from the selectors (what the user may see); they never widen it.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Department
from proposals.enums import CostBand, OutcomeResult, Status
from proposals.fields import GovukDateField, ModelChoiceField, ModelMultipleChoiceField
from proposals.models import Assignment, Challenge, Outcome, PanelScore, Proposal, Theme
from proposals.selectors import search_proposals

SEARCH_MAX = 200
# A bound on how many values one parameter may repeat: each is checked against the table.
MANY_MAX = 20
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,64}\Z")

MESSAGES = {
    "search": f"Search must be {SEARCH_MAX} characters or fewer",
    "status": "Select a status from the list",
    "department": "Select a department from the list",
    "theme": "Select a theme from the list",
    "challenge": "Select a challenge from the list",
    "cost_band": "Select an estimated cost from the list",
    "result": "Select a result from the list",
    "stage": "Select a stage from the list",
    "date": "Enter a real date, like 2026-03-27",
    "datetime": "Enter a date and time with a time zone, like 2026-11-28T09:30:00Z",
}


# --- fields: what a value may be --------------------------------------------------------------


def _one_or_many(value: Any) -> list[Any]:
    """Checkboxes and repeated query parameters give a list; a select or a stored
    report filter gives one string. Both mean "any of these"."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


class Choice(forms.ChoiceField):
    """One of the choices."""


class ChoicesField(forms.MultipleChoiceField):
    """Any of several choices (one value is one choice)."""

    def to_python(self, value: Any) -> list[str]:
        values = _one_or_many(value)
        if len(values) > MANY_MAX:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return [str(v) for v in values if v != ""]

    def valid_value(self, value: Any) -> bool:
        return value != "" and super().valid_value(value)


class SlugField(ModelChoiceField):
    """One row by its slug. A value that cannot be a slug is refused before the
    query (PostgreSQL refuses a NUL byte with an error of its own)."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not _SLUG.match(str(value)):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class SlugsField(ModelMultipleChoiceField):
    """Any of several rows by their slugs (one value is one slug)."""

    def __init__(self, queryset: Any, *, blank: str | None = None, **kwargs: Any) -> None:
        super().__init__(queryset, **kwargs)
        # Shown as a select on some pages: its first option means "any".
        self.empty_label = blank

    def clean(self, value: Any) -> Any:
        values = _one_or_many(value)
        if len(values) > MANY_MAX or not all(_SLUG.match(str(v)) for v in values):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().clean(values)


class ZonedDateTimeField(forms.Field):
    """ISO 8601 with a time zone offset (SPEC §6); a `+` that arrived as a space
    (an unencoded query string) is read as the `+` it was."""

    default_error_messages = {"invalid": MESSAGES["datetime"]}

    def to_python(self, value: Any) -> dt.datetime | None:
        # Absent is no filter; present but blank is not a date and time.
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        if " " in text and "T" in text:
            text = text.replace(" ", "+")
        try:
            parsed = parse_datetime(text) if len(text) <= 64 else None
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
            utc = parsed.astimezone(dt.UTC) if parsed and parsed.tzinfo else None
        except (ValueError, OverflowError):
            utc = None
        if utc is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return utc


class ApiForm(forms.Form):
    """The API's doors: a parameter that is present must have a value, as the schema
    says (on a page a blank field means "any"); blank words are still no search."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        getlist = getattr(self.data, "getlist", None)
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) or name not in self.data or name in self.errors:
                continue
            values = getlist(name) if getlist else [self.data[name]]
            if not any(str(value).strip() for value in values):
                message = (
                    field.error_messages.get("invalid_choice") or field.error_messages["invalid"]
                )
                self.add_error(name, str(message))
        return cleaned


class FieldFilter(django_filters.Filter):
    """A filter whose form field is given: the field checks the value, the named
    method (on the FilterSet) adds the query."""

    def __init__(self, field_class: type[forms.Field], **kwargs: Any) -> None:
        self.field_class = field_class
        super().__init__(**kwargs)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- the FilterSets -------------------------------------------------------------------------


class DoorFilterSet(django_filters.FilterSet):
    """A FilterSet whose subclasses (the doors) keep only their `parameters`."""

    parameters: ClassVar[tuple[str, ...] | None] = None
    options: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    @classmethod
    def get_filters(cls) -> OrderedDict[str, django_filters.Filter]:
        found = super().get_filters()
        names = cls.parameters if cls.parameters is not None else tuple(found)
        kept: OrderedDict[str, django_filters.Filter] = OrderedDict()
        for name in names:
            # A copy per door: its widget and label are the door's own.
            kept[name] = copy.deepcopy(found[name])
            kept[name].extra.update(cls.options.get(name, {}))
            kept[name].label = kept[name].extra.pop("label", kept[name].label)
        return kept

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Only the filters' values: a door's form may carry more (the sort order).
        for name, value in self.form.cleaned_data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """This door's valid values applied to another queryset (a value that is not
        valid is left out; the door shows its error)."""
        if not self.is_bound:
            return queryset
        self.errors  # noqa: B018 -- validates the form, so cleaned_data exists
        return self.filter_queryset(queryset)

    def messages(self) -> dict[str, list[str]]:
        """The errors as field → plain-English messages (API and report request)."""
        return {
            name: [message for error in errors for message in error.messages]
            for name, errors in self.form.errors.as_data().items()
        }


class ProposalFilter(DoorFilterSet):
    """Every filter of a list of proposals, once."""

    q = FieldFilter(
        forms.CharField,
        method="filter_search",
        label="Search proposals",
        max_length=SEARCH_MAX,
        error_messages={"max_length": MESSAGES["search"]},
    )
    # The API and reports call the words `search`; the pages `q`. Same filter.
    search = FieldFilter(
        forms.CharField,
        method="filter_search",
        label="Words to search for",
        max_length=SEARCH_MAX,
        error_messages={"max_length": MESSAGES["search"]},
        help_text="Full-text search.",
    )
    status = FieldFilter(
        ChoicesField,
        method="filter_status",
        label="Status",
        choices=Status.choices,
        error_messages={"invalid_choice": MESSAGES["status"], "invalid_list": MESSAGES["status"]},
        help_text="Only proposals in this status (or any of these).",
    )
    department = FieldFilter(
        SlugField,
        method="filter_department",
        label="Department",
        queryset=Department.objects.order_by("name"),
        to_field_name="slug",
        empty_label="All departments",
        error_messages={"invalid_choice": MESSAGES["department"]},
        help_text="The owning department's slug, e.g. `dfe`.",
    )
    theme = FieldFilter(
        SlugsField,
        method="filter_theme",
        label="Theme",
        queryset=Theme.objects.order_by("name"),
        to_field_name="slug",
        error_messages={
            "invalid_choice": MESSAGES["theme"],
            "invalid_pk_value": MESSAGES["theme"],
            "invalid_list": MESSAGES["theme"],
        },
        help_text="A theme's slug (or several: any of them).",
    )
    challenge = FieldFilter(
        SlugField,
        method="filter_challenge",
        label="Challenge",
        queryset=Challenge.objects.order_by("title"),
        to_field_name="slug",
        empty_label="Any or none",
        error_messages={"invalid_choice": MESSAGES["challenge"]},
    )
    cost_band = FieldFilter(
        forms.ChoiceField,
        method="filter_cost_band",
        label="Estimated cost",
        choices=[("", "Any cost"), *CostBand.choices],
        error_messages={"invalid_choice": MESSAGES["cost_band"]},
    )
    # The GOV.UK date input (day, month, year); an old ?submitted_from=2026-03-27 link still works.
    submitted_from = FieldFilter(
        GovukDateField,
        method="filter_submitted_from",
        label="Submitted on or after",
        what="earliest submission date",
        required=False,
    )
    # The GOV.UK date input (day, month, year); an old ?submitted_to=2026-03-27 link still works.
    submitted_to = FieldFilter(
        GovukDateField,
        method="filter_submitted_to",
        label="Submitted on or before",
        what="latest submission date",
        required=False,
    )
    updated_after = FieldFilter(
        ZonedDateTimeField,
        method="filter_updated_after",
        label="Updated after",
        help_text=(
            "ISO 8601 with time zone; exclusive. For incremental sync pass the newest "
            "`updated_at` you have seen."
        ),
    )
    mine = FieldFilter(forms.BooleanField, method="filter_mine", label="Only proposals I wrote")

    def filter_search(self, queryset: QuerySet[Proposal], name: str, value: str) -> Any:
        return search_proposals(queryset, value) if value.strip() else queryset

    def filter_status(self, queryset: QuerySet[Proposal], name: str, value: list[str]) -> Any:
        return queryset.filter(status__in=value) if value else queryset

    def filter_department(self, queryset: QuerySet[Proposal], name: str, value: Any) -> Any:
        return queryset.filter(department_id=value.pk)

    def filter_theme(self, queryset: QuerySet[Proposal], name: str, value: Any) -> Any:
        ids = [theme.pk for theme in value]
        if not ids:
            return queryset
        # Any of the chosen themes; a subquery (not a join) keeps one row per proposal.
        return queryset.filter(
            Exists(
                Proposal.themes.through.objects.filter(proposal_id=OuterRef("pk"), theme_id__in=ids)
            )
        )

    def filter_challenge(self, queryset: QuerySet[Proposal], name: str, value: Any) -> Any:
        return queryset.filter(challenge_id=value.pk)

    def filter_cost_band(self, queryset: QuerySet[Proposal], name: str, value: str) -> Any:
        return queryset.filter(cost_band=value)

    def filter_submitted_from(self, queryset: QuerySet[Proposal], name: str, value: Any) -> Any:
        return queryset.filter(submitted_at__gte=_start_of(value))

    def filter_submitted_to(self, queryset: QuerySet[Proposal], name: str, value: Any) -> Any:
        return queryset.filter(submitted_at__lt=_start_of(value + dt.timedelta(days=1)))

    def filter_updated_after(self, queryset: QuerySet[Proposal], name: str, value: Any) -> Any:
        return queryset.filter(updated_at__gt=value)

    def filter_mine(self, queryset: QuerySet[Proposal], name: str, value: bool) -> Any:
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        co_authored = Proposal.co_authors.through.objects.filter(user_id=user.pk)
        return queryset.filter(
            Q(submitter_id=user.pk) | Q(pk__in=co_authored.values("proposal_id"))
        )


# --- the doors ----------------------------------------------------------------------------------

SORTS = (
    # Blank: best match when searching, recently updated otherwise.
    ("", "Best match"),
    ("newest", "Newest"),
    ("updated", "Recently updated"),
    ("supported", "Most supported"),
)


class FindForm(forms.Form):
    """Find proposals' panel: the filters, and the order the page lists them in."""

    sort = forms.ChoiceField(
        label="Sort by",
        choices=SORTS,
        required=False,
        error_messages={"invalid_choice": "Select an order from the list"},
    )


class FindFilter(ProposalFilter):
    """/proposals/ (SPEC §4): search, status, department, theme, challenge, mine."""

    parameters = ("q", "status", "department", "theme", "challenge", "mine")
    options = {
        "q": {"help_text": "Words from a proposal, or its reference, like DFE-2026-0042."},
        "status": {"widget": forms.CheckboxSelectMultiple, "help_text": ""},
        "department": {"help_text": ""},
        "theme": {"widget": forms.CheckboxSelectMultiple, "help_text": ""},
    }

    class Meta:
        form = FindForm


class QueueFilter(ProposalFilter):
    """The review queue (/review/): the department's submitted proposals."""

    parameters = ("q", "theme", "challenge", "cost_band", "submitted_from", "submitted_to")
    options = {
        "theme": {"widget": forms.Select, "blank": "Any theme", "help_text": ""},
        "challenge": {"empty_label": "Any challenge"},
    }

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the challenges this department's people can answer.
        self.filters["challenge"].extra["queryset"] = Challenge.objects.filter(
            Q(department=department) | Q(department__isnull=True)
        ).order_by("title")


PANEL_STAGES = (
    ("", "Any stage"),
    ("unscored", "Not yet scored"),
    ("awaiting", "Awaiting assessments"),
    ("moderation", "Needs moderation"),
    ("ready", "Ready to decide"),
)


class PanelFilter(ProposalFilter):
    """The panel sheet (/review/panel/): the department's proposals in review, read
    from proposals_panel_score (its figures are that table's columns). Each filter
    keeps to an index: the stage to the sheet's ranking index, a theme to the
    themes table's (proposal, theme) key, "assigned to me" to the person's
    assignments."""

    parameters = ("stage", "theme", "assigned")
    options = {
        "theme": {"widget": forms.Select, "blank": "Any theme", "help_text": ""},
    }

    stage = FieldFilter(
        Choice,
        method="filter_stage",
        label="Stage",
        choices=PANEL_STAGES,
        error_messages={"invalid_choice": MESSAGES["stage"]},
    )
    assigned = FieldFilter(
        forms.BooleanField, method="filter_assigned", label="Only proposals assigned to me"
    )

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.panel_department = department

    def filter_stage(self, queryset: QuerySet[Any], name: str, value: str) -> Any:
        # Proposals (the sheet's rows) or their PanelScore rows themselves (a count
        # that need not read the proposals): the same columns either way.
        via = "" if queryset.model is PanelScore else "panel_score__"
        needed = self.panel_department.min_assessments
        spread = F(f"{via}max_score") - F(f"{via}min_score")
        flagged = Q(panel_spread__gt=self.panel_department.moderation_threshold)
        done = f"{via}assessments_done"
        if value == "unscored":
            return queryset.filter(**{f"{via}rank_score": 0})
        if value == "awaiting":
            return queryset.filter(**{f"{done}__lt": needed})
        if value == "moderation":
            return queryset.alias(panel_spread=spread).filter(flagged)
        if value == "ready":
            return (
                queryset.alias(panel_spread=spread)
                .filter(**{f"{done}__gte": needed})
                .exclude(flagged)
            )
        return queryset

    def filter_assigned(self, queryset: QuerySet[Proposal], name: str, value: bool) -> Any:
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        # Asked of each row as the sheet's index is walked, by the (proposal,
        # reviewer) key: a person's assignments over the years are many more than
        # a page.
        return queryset.filter(
            Exists(Assignment.objects.filter(proposal_id=OuterRef("pk"), reviewer_id=user.pk))
        )


class ApiProposalFilter(ProposalFilter):
    """GET /api/v1/proposals/ (SPEC §6)."""

    parameters = ("status", "department", "theme", "updated_after", "search")

    class Meta:
        form = ApiForm


class ReportFilter(ProposalFilter):
    """A report's filters (proposals export, portfolio summary, outcomes): the keys a
    report request stores."""

    parameters = ("status", "department", "theme", "search")


def report_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    """A report request's filters, checked: the stored form (strings, unknown keys and
    blanks dropped). A bad value is a ValidationError naming the field."""
    given = {
        name: str(value).strip()
        for name, value in (filters or {}).items()
        if name in ReportFilter.base_filters and str(value or "").strip()
    }
    checked = ReportFilter(given, queryset=Proposal.objects.none())
    if not checked.is_valid():
        raise ValidationError(checked.messages())
    return given


def reported(queryset: QuerySet[Proposal], filters: Mapping[str, Any]) -> QuerySet[Proposal]:
    """A report's stored filters on an already visible queryset."""
    return ReportFilter(dict(filters), queryset=queryset).narrow(queryset)


# --- outcomes -------------------------------------------------------------------------------


class OutcomeFilter(DoorFilterSet):
    """Every filter of a list of outcomes (the lessons library, the API), once."""

    q = FieldFilter(
        forms.CharField,
        method="filter_words",
        label="Search lessons",
        max_length=SEARCH_MAX,
        error_messages={"max_length": MESSAGES["search"]},
    )
    result = FieldFilter(
        Choice,
        method="filter_result",
        label="Result",
        choices=[("", "Any result"), *OutcomeResult.choices],
        error_messages={"invalid_choice": MESSAGES["result"]},
    )
    theme = FieldFilter(
        SlugField,
        method="filter_theme",
        label="Theme",
        queryset=Theme.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Any theme",
        error_messages={"invalid_choice": MESSAGES["theme"]},
    )
    department = FieldFilter(
        SlugField,
        method="filter_department",
        label="Department",
        queryset=Department.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Any department",
        error_messages={"invalid_choice": MESSAGES["department"]},
    )
    updated_after = FieldFilter(
        ZonedDateTimeField,
        method="filter_updated_after",
        label="Updated after",
        help_text="ISO 8601 with time zone; exclusive.",
    )

    def filter_words(self, queryset: QuerySet[Outcome], name: str, value: str) -> Any:
        match = Q()
        for word in value.split()[:8]:
            match &= (
                Q(lessons__icontains=word)
                | Q(experiment__title__icontains=word)
                | Q(experiment__proposal__title__icontains=word)
                | Q(experiment__proposal__summary__icontains=word)
                | Q(experiment__proposal__reference__iexact=word)
            )
        return queryset.filter(match)

    def filter_result(self, queryset: QuerySet[Outcome], name: str, value: str) -> Any:
        return queryset.filter(result=value)

    def filter_theme(self, queryset: QuerySet[Outcome], name: str, value: Any) -> Any:
        return queryset.filter(
            Exists(
                Proposal.themes.through.objects.filter(
                    proposal_id=OuterRef("experiment__proposal_id"), theme_id=value.pk
                )
            )
        )

    def filter_department(self, queryset: QuerySet[Outcome], name: str, value: Any) -> Any:
        return queryset.filter(experiment__proposal__department_id=value.pk)

    def filter_updated_after(self, queryset: QuerySet[Outcome], name: str, value: Any) -> Any:
        return queryset.filter(updated_at__gt=value)


class LessonFilter(OutcomeFilter):
    """/lessons/ (SPEC §4): published outcomes, searchable."""

    parameters = ("q", "result", "theme", "department")


class ApiOutcomeFilter(OutcomeFilter):
    """GET /api/v1/outcomes/ (SPEC §6)."""

    parameters = ("result", "updated_after")

    class Meta:
        form = ApiForm
