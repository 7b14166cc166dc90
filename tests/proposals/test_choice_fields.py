"""A model choice field reads its options with one ordinary query each time they are
read, never through a server-side cursor, and never keeps them past the read."""

from __future__ import annotations

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


def test_options_come_from_one_query_per_field_and_no_cursor(reference_data) -> None:
    expected = list(Theme.objects.order_by("name").values_list("name", flat=True))
    assert expected
    form = ThemeForm()
    with CaptureQueriesContext(connection) as queries:
        html = str(form["theme"]) + str(form["themes"])
        labels = [label for _, label in form.fields["theme"].choices]
    assert len(queries.captured_queries) == 3
    assert not any("DECLARE" in q["sql"] for q in queries.captured_queries)
    assert labels == ["---------", *expected]
    assert all(name in html for name in expected)


def test_options_read_again_are_read_afresh(reference_data) -> None:
    # A field made once and used by many requests (a filter's) shows today's rows.
    field = ThemeForm.base_fields["theme"]
    before = len(list(field.choices))
    Theme.objects.create(slug="brand-new", name="Brand new")
    assert len(list(field.choices)) == before + 1


def test_a_chosen_option_is_still_checked_against_the_database(reference_data) -> None:
    theme = Theme.objects.order_by("name").first()
    assert theme is not None
    form = ThemeForm({"theme": str(theme.pk), "themes": [str(theme.pk)]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["theme"] == theme
    assert list(form.cleaned_data["themes"]) == [theme]
    assert not ThemeForm({"theme": "999999", "themes": ["999999"]}).is_valid()
