"""The widgets innovation.form_renderer writes in Python give exactly the HTML of
Django's own templates: each is rendered both ways and compared byte for byte."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from innovation.form_renderer import WidgetRenderer, _python_widget

pytestmark = pytest.mark.django_db

CHOICES = [
    ("", "Any"),
    ("a&b", 'Quotes " and <tags>'),
    (3, 3),
    ("lazy", gettext_lazy("Lazy label")),
    ("safe", mark_safe("<b>safe</b>")),
]
GROUPED = [("", "None"), ("Group <one>", [("x", "X"), ("y", "Y")]), ("z", "Z")]


class Everything(forms.Form):
    text = forms.CharField(max_length=10)
    optional = forms.CharField(required=False)
    email = forms.EmailField()
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"min": 1, "step": "any"}))
    money = forms.DecimalField()
    url = forms.URLField(assume_scheme="https")
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(widget=forms.HiddenInput)
    when = forms.DateField(widget=forms.DateInput)
    tick = forms.BooleanField(required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "spellcheck": True}))
    choice = forms.ChoiceField(choices=CHOICES)
    grouped = forms.ChoiceField(choices=GROUPED, required=False)
    many = forms.MultipleChoiceField(choices=CHOICES, required=False)


DATA = {
    "text": 'say "hi" & <bye>',
    "optional": "",
    "email": "not an email",
    "number": "12",
    "money": "1.50",
    "url": "javascript:alert(1)",
    "password": "p<w>",
    "hidden": "h&",
    "when": "2026-12-07",
    "tick": "on",
    "body": "line one\n<line two> & three",
    "choice": "a&b",
    "grouped": "y",
    "many": ["3", "safe"],
}
INITIAL = {"number": 7, "money": Decimal("2.25"), "when": dt.date(2026, 1, 2), "choice": 3}

EXTRA_ATTRS: tuple[dict[str, str | bool], ...] = (
    {},
    {"class": "govuk-input govuk-input--error", "aria-describedby": "x-hint x-error"},
    {"maxlength": False, "autocomplete": "email", "spellcheck": "false", "disabled": True},
)


def _forms(renderer: DjangoTemplates) -> list[forms.Form]:
    bound = Everything(DATA, renderer=renderer)
    bound.is_valid()  # errors add aria-invalid to the widgets
    return [Everything(renderer=renderer), Everything(initial=INITIAL, renderer=renderer), bound]


@pytest.mark.parametrize("attrs", EXTRA_ATTRS)
def test_every_widget_renders_as_djangos_templates_do(attrs: dict[str, str | bool]) -> None:
    compared = 0
    pairs = zip(_forms(WidgetRenderer()), _forms(DjangoTemplates()), strict=True)
    for ours, django in pairs:
        for name in ours.fields:
            expected = django[name].as_widget(attrs=dict(attrs))
            assert ours[name].as_widget(attrs=dict(attrs)) == expected, name
            compared += 1
    assert compared == 3 * len(Everything.base_fields)


def test_the_python_widgets_are_the_ones_used_and_the_rest_fall_back() -> None:
    form = Everything()
    for name in ("text", "email", "number", "hidden", "tick", "body", "choice", "grouped"):
        widget = form.fields[name].widget
        assert _python_widget(widget.template_name) is not None, name
    # Radios and checkbox groups have templates of their own: Django renders those.
    radios = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect)
    assert _python_widget(radios.widget.template_name) is None
    # The service's forms use it (FORM_RENDERER).
    assert isinstance(get_default_renderer(), WidgetRenderer)


def test_a_radio_group_still_renders_through_djangos_templates() -> None:
    class Radios(forms.Form):
        pick = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect)

    ours = Radios({"pick": "3"}, renderer=WidgetRenderer())
    django = Radios({"pick": "3"}, renderer=DjangoTemplates())
    assert 'type="radio"' in str(ours["pick"])
    assert str(ours["pick"]) == str(django["pick"])
