"""A model choice field reads its options with one ordinary query each time they are
read, never through a server-side cursor, and never keeps them past the read."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.fields import ModelChoiceField, ModelMultipleChoiceField
from proposals.models import Theme

pytestmark = pytest.mark.django_db


class ThemeForm(forms.Form):
    theme = ModelChoiceField(queryset=Theme.objects.order_by("name"), required=False)
    themes = ModelMultipleChoiceField(
        queryset=Theme.objects.order_by("name"), widget=forms.CheckboxSelectMultiple
    )


def _choices(field: forms.Field) -> list[Any]:
    assert isinstance(field, ModelChoiceField)
    return list(field.choices)  # type: ignore[arg-type]


class DjangoThemeForm(forms.Form):
    theme = forms.ModelChoiceField(queryset=Theme.objects.order_by("name"), required=False)  # noqa: TID251 - the comparison
    themes = forms.ModelMultipleChoiceField(  # noqa: TID251 - the comparison
        queryset=Theme.objects.order_by("name"), widget=forms.CheckboxSelectMultiple
    )


def _render(form: forms.Form) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        html = str(form["theme"]) + str(form["themes"])
    return html, [q["sql"] for q in queries.captured_queries]


def test_options_come_from_one_query_per_field_and_no_cursor(reference_data) -> None:
    expected = list(Theme.objects.order_by("name").values_list("name", flat=True))
    assert expected
    html, ours = _render(ThemeForm())
    djangos_html, djangos = _render(DjangoThemeForm())
    assert html == djangos_html
    assert all(name in html for name in expected)
    # No more reads than Django's own fields make, and none through a cursor.
    assert len(ours) == len([sql for sql in djangos if sql.startswith(("SELECT", "DECLARE"))])
    assert all(sql.startswith("SELECT") for sql in ours)
    labels = [label for _, label in _choices(ThemeForm().fields["theme"])]
    assert labels == ["---------", *expected]


def test_options_read_again_are_read_afresh(reference_data) -> None:
    # A field made once and used by many requests (a filter's) shows today's rows.
    field = ThemeForm.base_fields["theme"]
    before = len(_choices(field))
    Theme.objects.create(slug="brand-new", name="Brand new")
    assert len(_choices(field)) == before + 1


def test_a_chosen_option_is_still_checked_against_the_database(reference_data) -> None:
    theme = Theme.objects.order_by("name").first()
    assert theme is not None
    form = ThemeForm({"theme": str(theme.pk), "themes": [str(theme.pk)]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["theme"] == theme
    assert list(form.cleaned_data["themes"]) == [theme]
    assert not ThemeForm({"theme": "999999", "themes": ["999999"]}).is_valid()
