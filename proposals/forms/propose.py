"""The question pages of "Propose an innovation" (SPEC §4).

Each page is a small form. "Continue" asks for that page's answers (the
messages are workflow.REQUIRED_ANSWERS, so the page and the submit rule say
the same thing); "Save as draft" keeps whatever is there, needing only a
title. The services validate again: these forms shape input and word errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Department
from proposals import workflow
from proposals.enums import CostBand, Visibility
from proposals.fields import ModelChoiceField, ModelMultipleChoiceField
from proposals.models import Challenge, Proposal, Theme
from proposals.workflow import REQUIRED_ANSWERS, CoAuthorCheck

# Long answers are character-counted; the model's TextFields have no limit of
# their own, so the limit is the form's.
LONG_ANSWER = 5000


def _too_long(label: str, limit: int) -> str:
    return f"{label} must be {limit:,} characters or fewer"


def long_text(label: str, hint: str, *, limit: int = LONG_ANSWER, rows: int = 6) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=hint,
        required=False,
        max_length=limit,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"max_length": _too_long(label, limit)},
    )


class QuestionPage(forms.Form):
    """One question page. `require_answers` is True when the user pressed Continue."""

    # The fields whose answers the service writes as they are.
    answer_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, require_answers: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.require_answers = require_answers

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in self.fields:
            required = name == "title" or (self.require_answers and name in REQUIRED_ANSWERS)
            if required and name not in self.errors and not cleaned.get(name):
                self.add_error(name, REQUIRED_ANSWERS[name])
        return cleaned

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.answer_fields}

    @classmethod
    def rearranged(cls, data: Mapping[str, Any], action: str, **kwargs: Any) -> QuestionPage | None:
        """The page again, changed by a button that saves nothing (add another…),
        or None when the button is not one of those."""
        return None

    @classmethod
    def initial_from(cls, proposal: Proposal) -> dict[str, Any]:
        return {name: getattr(proposal, name) for name in cls.answer_fields}


class AboutForm(QuestionPage):
    answer_fields = ("title", "summary")
    title = forms.CharField(
        label="Title",
        help_text="A short name for your idea that others will recognise, like "
        "“Read school census returns automatically”.",
        required=False,
        max_length=150,
        error_messages={"max_length": _too_long("Title", 150)},
    )
    summary = long_text(
        "Summary",
        "Explain your idea in a few sentences. This is what people see in search results.",
        limit=500,
        rows=4,
    )
    # Carried from /proposals/new/?challenge=<slug> to the new draft.
    challenge = forms.SlugField(required=False, widget=forms.HiddenInput)


class ProblemForm(QuestionPage):
    answer_fields = ("problem", "who_has_the_problem")
    problem = long_text(
        "What problem are you trying to solve?",
        "Describe what happens now and why it is a problem. Include evidence if you have it.",
    )
    who_has_the_problem = long_text(
        "Who has this problem?",
        "For example, caseworkers in a team, members of the public applying for something, "
        "or other departments.",
    )


class SolutionForm(QuestionPage):
    answer_fields = ("proposed_solution", "expected_benefits")
    proposed_solution = long_text(
        "What do you propose?",
        "Describe what you would try, and how you could test it quickly and safely.",
    )
    expected_benefits = long_text(
        "What benefits do you expect?",
        "For example, time saved, money saved, or a better service for users.",
    )


def _whole_number(value: str, label: str, example: str) -> int | None:
    """'£25,000' and '25000' are both 25000; blank is None."""
    text = re.sub(r"[£,\s]", "", value or "")
    if not text:
        return None
    if not text.isdigit():
        raise forms.ValidationError(f"{label} must be a whole number, like {example}")
    number = int(text)
    if number > 10**12:
        raise forms.ValidationError(f"{label} must be £1 trillion or less")
    return number


class CostsForm(QuestionPage):
    answer_fields = ("cost_band", "estimated_benefit_gbp", "hours_saved_per_year")
    cost_band = forms.ChoiceField(
        label="How much do you think it would cost to try?",
        choices=CostBand.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": REQUIRED_ANSWERS["cost_band"]},
    )
    estimated_benefit_gbp = forms.CharField(
        label="Estimated benefit in pounds a year",
        help_text="Your best estimate of money saved or value created each year, like 25000.",
        required=False,
        max_length=20,
    )
    hours_saved_per_year = forms.CharField(
        label="Hours saved a year",
        help_text="If your idea saves people time, roughly how many hours a year.",
        required=False,
        max_length=20,
    )

    def clean_estimated_benefit_gbp(self) -> int | None:
        return _whole_number(
            self.cleaned_data["estimated_benefit_gbp"], "Estimated benefit", "25000"
        )

    def clean_hours_saved_per_year(self) -> int | None:
        hours = _whole_number(self.cleaned_data["hours_saved_per_year"], "Hours saved", "1200")
        if hours is not None and hours > 2_000_000_000:
            raise forms.ValidationError("Hours saved must be 2,000,000,000 or fewer")
        return hours

    def clean_cost_band(self) -> str:
        return self.cleaned_data["cost_band"] or ""

    @classmethod
    def initial_from(cls, proposal: Proposal) -> dict[str, Any]:
        return {
            "cost_band": proposal.cost_band,
            "estimated_benefit_gbp": proposal.estimated_benefit_gbp or "",
            "hours_saved_per_year": proposal.hours_saved_per_year or "",
        }


def open_challenges(today: Any = None) -> QuerySet[Challenge]:
    today = today or timezone.localdate()
    return Challenge.objects.filter(
        closed_at__isnull=True, opens_on__lte=today, closes_on__gte=today
    )


class DetailsForm(QuestionPage):
    answer_fields = ("themes", "collaborating_departments", "challenge", "visibility")
    themes = ModelMultipleChoiceField(
        label="Which themes does your idea fit?",
        help_text="Select all that apply.",
        queryset=Theme.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    collaborating_departments = ModelMultipleChoiceField(
        label="Which other departments are working with you on this?",
        help_text="Select all that apply. People in these departments can read and discuss "
        "your proposal, even if you share it only with your department.",
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    challenge = ModelChoiceField(
        label="Does it answer a challenge?",
        help_text="Only challenges that are open for ideas are listed.",
        queryset=Challenge.objects.none(),
        required=False,
        empty_label="No, it does not answer a challenge",
        to_field_name="slug",
        error_messages={"invalid_choice": "Select a challenge that is open for ideas"},
    )
    visibility = forms.ChoiceField(
        label="Who can see your proposal once you submit it?",
        help_text="Open by default: anyone in government who uses this service can read it, "
        "support it and learn from it. Choose your department only if it cannot be shared "
        "yet. Only you and your co-authors can see a draft.",
        choices=Visibility.choices,
        initial=Visibility.GOVERNMENT,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select who can see your proposal",
            "invalid_choice": "Select who can see your proposal",
        },
    )

    def __init__(
        self,
        *args: Any,
        department: Department,
        current_challenge_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        partners = cast(ModelMultipleChoiceField, self.fields["collaborating_departments"])
        partners.queryset = Department.objects.exclude(pk=department.pk)
        challenges = Q(pk__in=open_challenges())
        if current_challenge_id:
            # Keep the one already chosen, so that saving other answers does not drop it;
            # submitting says so if it has closed.
            challenges |= Q(pk=current_challenge_id)
        cast(ModelChoiceField, self.fields["challenge"]).queryset = Challenge.objects.filter(
            challenges
        )

    @classmethod
    def initial_from(cls, proposal: Proposal) -> dict[str, Any]:
        return {
            "themes": list(proposal.themes.all()),
            "collaborating_departments": list(proposal.collaborating_departments.all()),
            "challenge": proposal.challenge.slug if proposal.challenge else None,
            "visibility": proposal.visibility,
        }


# "Add another" stops here: a longer list is a team, better named in the answers.
MAX_CO_AUTHORS = 20
_CO_AUTHOR_FIELD = re.compile(r"co_author_(\d{1,3})")


def _co_author_emails(data: Mapping[str, Any]) -> list[str]:
    """The emails in the posted fields co_author_0, co_author_1… in their order."""
    indexed = sorted(
        (int(found.group(1)), str(data.get(key) or ""))
        for key in data
        if (found := _CO_AUTHOR_FIELD.fullmatch(key))
    )
    return [email for _, email in indexed][:MAX_CO_AUTHORS]


class CoAuthorsForm(QuestionPage):
    """Who else is working on this: one email field per co-author (GOV.UK "add
    another", without JavaScript: the Add and Remove buttons post the page and it
    comes back with one field more or fewer, saving nothing).

    Who may be a co-author is `workflow.check_co_authors`'s question alone (the
    API asks it too); `check` is that rule with this proposal's facts bound.
    """

    answer_fields = ("co_authors",)

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        check: Callable[[list[str]], CoAuthorCheck],
        initial: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, initial=initial, **kwargs)
        self.check = check
        if data is not None:
            emails = _co_author_emails(data)
        else:
            emails = list((initial or {}).get("emails") or [])
        self.emails = emails or [""]
        for index, email in enumerate(self.emails):
            self.fields[f"co_author_{index}"] = forms.CharField(
                label=f"Email address of co-author {index + 1}",
                required=False,
                max_length=254,
                initial=email,
                widget=forms.EmailInput,
                error_messages={"max_length": workflow.CO_AUTHOR_FORMAT},
            )
        self.can_add = len(self.emails) < MAX_CO_AUTHORS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Blank fields are ones added and left empty: nothing to check or keep.
        named = [
            (name, str(cleaned.get(name) or "").strip())
            for name in self.fields
            if name not in self.errors
        ]
        named = [(name, email) for name, email in named if email]
        checked = self.check([email for _, email in named])
        for index, message in sorted(checked.errors.items()):
            self.add_error(named[index][0], message)
        cleaned["co_authors"] = checked.users
        return cleaned

    @classmethod
    def rearranged(cls, data: Mapping[str, Any], action: str, **kwargs: Any) -> QuestionPage | None:
        emails = _co_author_emails(data)
        if action == "add":
            emails.append("")
        elif action.startswith("remove-") and action[len("remove-") :].isdigit():
            index = int(action[len("remove-") :])
            emails = [email for i, email in enumerate(emails) if i != index]
        else:
            return None
        return cls(initial={"emails": emails}, **kwargs)

    @classmethod
    def initial_from(cls, proposal: Proposal) -> dict[str, Any]:
        return {"emails": [user.email for user in proposal.co_authors.all()]}


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label="Upload a file",
        help_text="PDF, ODT, DOCX, PNG or JPEG. Do not upload anything classified above OFFICIAL.",
        required=False,
    )


class ConfirmForm(forms.Form):
    """A confirmation page's form: the CSRF token and the button are all it needs."""


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Add a comment",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter a comment",
            "max_length": _too_long("Comment", 5000),
        },
    )
    # Shown only to those who may follow and do not yet (the page decides).
    follow = forms.BooleanField(
        label="Tell me what happens to this proposal",
        help_text="We will tell you when its status changes, a decision is made, an "
        "experiment starts or an outcome is published.",
        required=False,
    )


class SupportForm(forms.Form):
    follow = forms.BooleanField(
        label="Tell me what happens to this proposal",
        help_text="We will tell you when its status changes, a decision is made, an "
        "experiment starts or an outcome is published.",
        required=False,
    )
