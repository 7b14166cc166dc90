"""The GOV.UK date input as a Django form field: day, month and year, with the
Design System's error messages. A leaf, so the pages' forms and the list filters
(which sit below forms) share one field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator

DATE_PARTS = ("day", "month", "year")


class GovukDateWidget(forms.MultiWidget):
    """Three text inputs named `<name>-day`, `<name>-month` and `<name>-year`, as the
    GOV.UK date input pattern asks (never the browser's own date picker, whose
    format follows the computer's locale and which many assistive tools read badly).
    `components/date_input.html` renders it."""

    template_name = "components/date_input_widget.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            f"-{part}": forms.TextInput(attrs={"inputmode": "numeric"}) for part in DATE_PARTS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[str]:
        if isinstance(value, dt.date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        parts = [str(data.get(f"{name}-{part}") or "").strip() for part in DATE_PARTS]
        if not any(parts) and data.get(name):
            # A link made before the date input (?period_from=2026-03-27) still works.
            try:
                return self.decompress(dt.date.fromisoformat(str(data.get(name)).strip()))
            except ValueError:
                return ["", "", str(data.get(name))]
        return parts

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and not any(f"{name}-{part}" in data for part in DATE_PARTS)


class GovukDateField(forms.Field):
    """A date typed as day, month and year, with GOV.UK's error messages:
    "Enter the start date", "Start date must include a month", "Start date must
    be a real date", "Year must include 4 numbers".

    `what` names the date inside a sentence ("start date"); the label is the
    question. After a failed clean, `error_parts` says which inputs to mark.
    """

    widget = GovukDateWidget

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        self.what = what
        self.error_parts: tuple[str, ...] = ()
        kwargs.setdefault("help_text", "For example, 27 3 2027")
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        parts = dict(zip(DATE_PARTS, list(value or ["", "", ""]), strict=False))
        self.error_parts = ()
        if not any(parts.values()):
            return None
        subject = self.what[0].upper() + self.what[1:]
        missing = tuple(p for p in DATE_PARTS if not parts.get(p))
        if missing:
            self.error_parts = missing
            named = " and ".join(missing) if len(missing) == 2 else missing[0]
            raise ValidationError(f"{subject} must include a {named}", code="incomplete")
        if not parts["year"].isdigit() or len(parts["year"]) != 4:
            self.error_parts = ("year",)
            raise ValidationError("Year must include 4 numbers", code="year")
        try:
            return dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            self.error_parts = DATE_PARTS
            raise ValidationError(f"{subject} must be a real date", code="invalid") from None

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            self.error_parts = DATE_PARTS
            raise ValidationError(f"Enter the {self.what}", code="required")

    def bound_data(self, data: Any, initial: Any) -> Any:
        return data


class ChoiceRows(ModelChoiceIterator):
    """A model choice field's options from one ordinary query each time they are read.

    Django's iterator reads them with `.iterator()`, which on PostgreSQL declares a
    server-side cursor (WITH HOLD, outside a transaction: DECLARE, FETCH and CLOSE,
    and the result materialised) for a few dozen rows. A fresh queryset each time
    (`.all()`), as Django's does: a field can outlive a request (a filter's field is
    made once), and rows kept on its queryset would be stale for the next."""

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ModelChoiceField(forms.ModelChoiceField):  # noqa: TID251 - the one subclass
    """`forms.ModelChoiceField` with its options read as `ChoiceRows` does."""

    iterator = ChoiceRows


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):  # noqa: TID251 - the one subclass
    """`forms.ModelMultipleChoiceField` with its options read as `ChoiceRows` does."""

    iterator = ChoiceRows
