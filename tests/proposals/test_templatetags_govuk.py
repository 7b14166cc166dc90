"""The GOV.UK component includes and the `govuk` tag library render the
markup GOV.UK Frontend 6 expects, for every kind of Django field."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.core.paginator import Paginator
from django.template import Context, Template
from django.test import RequestFactory

from proposals.enums import Status
from proposals.templatetags.govuk import widget_type


class ExampleForm(forms.Form):
    title = forms.CharField(label="Title", max_length=120, help_text="Keep it short")
    summary = forms.CharField(label="Summary", max_length=500, widget=forms.Textarea)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea)
    email = forms.EmailField(label="Email address")
    amount = forms.IntegerField(label="Estimated benefit a year", required=False)
    cost = forms.ChoiceField(
        label="Cost band", choices=[("low", "Under £10,000"), ("high", "Over £10,000")]
    )
    visibility = forms.ChoiceField(
        label="Who can see it?",
        choices=[("government", "Across government"), ("department", "My department")],
        widget=forms.RadioSelect,
    )
    themes = forms.MultipleChoiceField(
        label="Themes",
        choices=[("ai", "AI"), ("data", "Data and analytics")],
        widget=forms.CheckboxSelectMultiple,
    )
    agree = forms.BooleanField(label="I have read the guidance")
    attachment = forms.FileField(label="Upload a file", required=False)
    secret = forms.CharField(widget=forms.HiddenInput, required=False)


def render(source: str, **context) -> str:
    html = Template("{% load govuk %}" + source).render(Context(context))
    return re.sub(r"\s+", " ", html)


def field_html(form: forms.Form, name: str, extra: str = "") -> str:
    return render(
        '{% include "components/field.html" with field=field ' + extra + " %}",
        field=form[name],
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("title", "text"),
        ("summary", "textarea"),
        ("email", "email"),
        ("amount", "number"),
        ("cost", "select"),
        ("visibility", "radios"),
        ("themes", "checkboxes"),
        ("agree", "checkbox"),
        ("attachment", "file"),
        ("secret", "hidden"),
    ],
)
def test_widget_type_names_the_govuk_component(name, expected):
    assert widget_type(ExampleForm()[name]) == expected


def test_number_and_url_fields_are_text_inputs_with_an_inputmode_keeping_what_was_typed():
    # GOV.UK: never type="number". What was typed wrong comes back as it was typed,
    # which a number or url input's value may not hold (the Nu HTML Checker's error).
    class Amounts(forms.Form):
        pounds = forms.IntegerField(label="Pounds", min_value=0, max_value=10)
        weight = forms.DecimalField(label="Weight", max_digits=4, decimal_places=2)
        address = forms.URLField(label="Address", assume_scheme="https")

    form = Amounts({"pounds": "lots", "weight": "1.5", "address": "hooks dot example"})
    form.is_valid()
    pounds = field_html(form, "pounds")
    weight = field_html(form, "weight")
    address = field_html(form, "address")

    assert 'type="text" name="pounds" value="lots"' in pounds
    assert 'inputmode="numeric"' in pounds
    assert 'type="number"' not in pounds + weight
    assert "min=" not in pounds and "max=" not in pounds and "step=" not in weight
    assert 'type="text" name="weight" value="1.5"' in weight
    assert 'inputmode="decimal"' in weight
    assert 'type="text" name="address" value="hooks dot example"' in address
    assert 'inputmode="url"' in address


def test_text_field_has_label_hint_and_described_input():
    html = field_html(ExampleForm(), "title", 'classes="govuk-input--width-20"')

    assert '<label class="govuk-label" for="id_title">Title</label>' in html
    assert '<div id="id_title-hint" class="govuk-hint">Keep it short</div>' in html
    assert 'class="govuk-input govuk-input--width-20"' in html
    assert 'aria-describedby="id_title-hint"' in html
    assert 'maxlength="120"' in html


def test_field_with_error_has_error_classes_and_message():
    form = ExampleForm(data={})
    form.is_valid()

    html = field_html(form, "title")

    assert '<div class="govuk-form-group govuk-form-group--error">' in html
    assert (
        '<p id="id_title-error" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Error:</span> This field is required.</p>'
    ) in html
    assert 'class="govuk-input govuk-input--error"' in html
    assert 'aria-describedby="id_title-hint id_title-error"' in html


def test_textarea_with_max_length_gets_the_character_count():
    html = field_html(ExampleForm(), "summary")

    assert (
        '<div class="govuk-form-group govuk-character-count" '
        'data-module="govuk-character-count" data-maxlength="500">'
    ) in html
    assert 'class="govuk-textarea govuk-js-character-count"' in html
    assert 'aria-describedby="id_summary-info"' in html
    assert "maxlength=" not in html.split("<textarea", 1)[1].split(">", 1)[0]
    assert (
        '<div id="id_summary-info" class="govuk-hint govuk-character-count__message">'
        "You can enter up to 500 characters</div>"
    ) in html


def test_textarea_without_max_length_has_no_count():
    html = field_html(ExampleForm(), "notes", "optional=True")

    assert "govuk-character-count" not in html
    assert '<label class="govuk-label" for="id_notes">Notes (optional)</label>' in html
    assert 'class="govuk-textarea"' in html


def test_label_as_page_heading():
    html = field_html(ExampleForm(), "title", 'heading="l"')

    assert (
        '<h1 class="govuk-label-wrapper"> '
        '<label class="govuk-label govuk-label--l" for="id_title">Title</label> </h1>'
    ) in html


def test_select_gets_govuk_select_class():
    html = field_html(ExampleForm(), "cost")

    assert '<select name="cost" class="govuk-select"' in html
    assert '<option value="low">Under £10,000</option>' in html


def test_radios_are_a_fieldset_with_govuk_radios():
    form = ExampleForm(data={"visibility": "department"})
    form.is_valid()

    html = field_html(form, "visibility")

    assert (
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s"> '
        "Who can see it? </legend>" in html
    )
    assert '<div class="govuk-radios" data-module="govuk-radios">' in html
    assert (
        '<input class="govuk-radios__input" id="id_visibility_0" name="visibility" '
        'type="radio" value="government">'
    ) in html
    assert (
        '<input class="govuk-radios__input" id="id_visibility_1" name="visibility" '
        'type="radio" value="department" checked>'
    ) in html
    assert (
        '<label class="govuk-label govuk-radios__label" for="id_visibility_1">My department</label>'
        in html
    )


def test_checkboxes_with_error_link_from_the_summary_to_the_first_box():
    form = ExampleForm(data={})
    form.is_valid()

    html = field_html(form, "themes")
    summary = render('{% include "components/error_summary.html" with form=form %}', form=form)

    assert '<fieldset class="govuk-fieldset" aria-describedby="id_themes-error">' in html
    assert 'id="id_themes_0" name="themes" type="checkbox" value="ai"' in html
    assert '<a href="#id_themes_0">This field is required.</a>' in summary
    assert '<a href="#id_visibility_0">This field is required.</a>' in summary
    assert '<a href="#id_title">This field is required.</a>' in summary


def test_single_checkbox_and_file_upload():
    checkbox = field_html(ExampleForm(), "agree")
    upload = field_html(ExampleForm(), "attachment")

    assert (
        '<input class="govuk-checkboxes__input" id="id_agree" name="agree" '
        'type="checkbox" value="on">'
    ) in checkbox
    assert '<label class="govuk-label govuk-checkboxes__label" for="id_agree">' in checkbox
    assert 'type="file" name="attachment" class="govuk-file-upload"' in upload


def test_error_summary_renders_nothing_for_a_valid_or_unbound_form():
    assert (
        render(
            '{% include "components/error_summary.html" with form=form %}', form=ExampleForm()
        ).strip()
        == ""
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.DRAFT, '<strong class="govuk-tag govuk-tag--grey">Draft</strong>'),
        (Status.IN_REVIEW, '<strong class="govuk-tag govuk-tag--light-blue">In review</strong>'),
        ("approved", '<strong class="govuk-tag govuk-tag--green">Approved</strong>'),
        ("<b>odd</b>", '<strong class="govuk-tag govuk-tag--grey">&lt;b&gt;odd&lt;/b&gt;</strong>'),
    ],
)
def test_status_tag_is_coloured_by_status(status, expected):
    assert render("{% status_tag status %}", status=status) == expected
    assert (
        render(
            '{% include "components/status_tag.html" with status=status %}', status=status
        ).strip()
        == expected
    )


def test_pagination_with_a_page_keeps_the_filters():
    request = RequestFactory().get("/proposals/", {"status": "submitted", "page": "5"})
    page = Paginator(range(200), 10).page(5)

    html = render(
        '{% include "components/pagination.html" with page_obj=page %}', page=page, request=request
    )

    assert '<nav class="govuk-pagination" aria-label="Pagination">' in html
    assert 'href="?status=submitted&amp;page=4" rel="prev"' in html
    assert 'href="?status=submitted&amp;page=6" rel="next"' in html
    assert 'aria-label="Page 5" aria-current="page">5</a>' in html
    assert "govuk-pagination__item--ellipses" in html


def test_pagination_with_urls_and_one_page():
    single = Paginator(range(3), 10).page(1)

    assert (
        render('{% include "components/pagination.html" with page_obj=page %}', page=single).strip()
        == ""
    )
    html = render('{% include "components/pagination.html" with next_url="/api/?cursor=abc" %}')
    assert '<nav class="govuk-pagination govuk-pagination--block" aria-label="Pagination">' in html
    assert 'href="/api/?cursor=abc" rel="next"' in html
    assert 'rel="prev"' not in html


def test_panel_warning_and_button():
    panel = render(
        '{% include "components/panel.html" with title="Proposal submitted" '
        'body="Your reference number" reference="DFE-2026-0042" %}'
    )
    warning = render('{% include "components/warning_text.html" %}')
    button = render(
        '{% include "components/button.html" with text="Save as draft" '
        'variant="secondary" name="action" value="draft" %}'
    )

    assert '<h1 class="govuk-panel__title">Proposal submitted</h1>' in panel
    assert "Your reference number<br><strong>DFE-2026-0042</strong>" in panel
    assert "above OFFICIAL" in warning
    assert '<span class="govuk-visually-hidden">Warning</span>' in warning
    assert (
        '<button type="submit" name="action" value="draft" '
        'class="govuk-button govuk-button--secondary" data-module="govuk-button">'
    ) in button


def test_summary_list_rows_with_and_without_actions():
    rows = [
        {"key": "Title", "value": "Read forms", "href": "/p/1/edit/#id_title"},
        {"key": "Status", "value": "Draft"},
    ]

    html = render('{% include "components/summary_list.html" with rows=rows %}', rows=rows)

    assert '<dt class="govuk-summary-list__key">Title</dt>' in html
    assert (
        '<a class="govuk-link" href="/p/1/edit/#id_title">Change'
        '<span class="govuk-visually-hidden"> title</span></a>'
    ) in html
    assert "govuk-summary-list__row govuk-summary-list__row--no-actions" in html
