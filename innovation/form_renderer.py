"""Django's form renderer, with its commonest widget templates written as Python.

Every page with a form renders its widgets through Django's own templates: an
input is `input.html` plus an include of `attrs.html`; a select is a template,
one include per option and one more per option's attributes. On the triage
dashboard and the proposal list that was a third of the page's time (dozens of
template renders for seven fields), and every form page of the service pays
it. The widgets below give byte-for-byte the HTML of Django's templates
(tests/test_form_renderer.py renders each both ways and compares them); any
other template, and any select whose options use another template, is
rendered by Django as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

WIDGETS = "django/forms/widgets/"
# Every widget whose template is only `{% include "django/forms/widgets/input.html" %}`.
INPUT_TEMPLATES = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "email",
        "number",
        "password",
        "url",
        "hidden",
        "search",
        "tel",
        "date",
        "datetime",
        "time",
        "checkbox",
        "color",
    )
)
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"


def _text(value: Any) -> str:
    """`{{ value }}`: localised, then escaped unless already safe."""
    return conditional_escape(localize(value))


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: `str()`, then escaped unless already safe."""
    return conditional_escape(value if isinstance(value, SafeData) else str(value))


def attrs_html(attrs: Mapping[str, Any]) -> str:
    """`attrs.html`: ` name="value"` for each attribute, a bare ` name` for True,
    nothing for False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_text(name)}")
        else:
            parts.append(f' {_text(name)}="{_formatted(value)}"')
    return "".join(parts)


def input_html(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{shown}{attrs_html(widget['attrs'])}>"
    )


def textarea_html(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{_text(widget["name"])}"{attrs_html(widget["attrs"])}>\n'
        f"{_text(value) if value else ''}</textarea>"
    )


def select_html(widget: Mapping[str, Any]) -> str | None:
    """`select.html` with its options, or None when an option has a template of its own."""
    parts = [f'<select name="{_text(widget["name"])}"{attrs_html(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option.get("template_name") != OPTION_TEMPLATE:
                return None
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"'
                f"{attrs_html(option['attrs'])}>{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _python_widget(template_name: str) -> Callable[[Mapping[str, Any]], str | None] | None:
    if template_name in INPUT_TEMPLATES:
        return input_html
    if template_name == f"{WIDGETS}textarea.html":
        return textarea_html
    if template_name == f"{WIDGETS}select.html":
        return select_html
    return None


class WidgetRenderer(DjangoTemplates):
    """FORM_RENDERER: inputs, textareas and selects in Python, the rest as Django does."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        build = _python_widget(template_name)
        widget = context.get("widget")
        if build is not None and isinstance(widget, Mapping):
            html = build(widget)
            if html is not None:
                return mark_safe(html)  # every value above is escaped
        return super().render(template_name, context, request)
