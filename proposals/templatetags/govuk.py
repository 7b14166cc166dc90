"""Small helpers for rendering GOV.UK Design System components in Django templates.

GOV.UK Frontend's Nunjucks macros cannot run in Django, so the components are
includes in templates/components/; these tags do the parts that are awkward in
template language: which kind of widget a field is, its GOV.UK classes and
`aria-describedby`, the error summary's links, the navigation for a role, and
page links that keep the current query string.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms, template
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Role
from proposals.enums import (
    STATUS_TAG_COLOURS,
    EconomicDesign,
    EvaluationType,
    ImpactDesign,
    ProcessDesign,
    Status,
)
from proposals.forms.common import DATE_PARTS, GovukDateField, GovukDateWidget

register = template.Library()

# The GOV.UK class for each kind of widget that is rendered by Django itself.
WIDGET_CLASSES = {
    "text": "govuk-input",
    "email": "govuk-input",
    "number": "govuk-input",
    "password": "govuk-input",
    "url": "govuk-input",
    "date": "govuk-input",
    "textarea": "govuk-textarea",
    "select": "govuk-select",
    "file": "govuk-file-upload",
}


@register.filter
def widget_type(bound_field: forms.BoundField) -> str:
    """What GOV.UK component renders this field: text, email, number, password, url,
    date, textarea, select, radios, checkboxes, checkbox (a single boolean), file or
    hidden."""
    widget = bound_field.field.widget
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, GovukDateWidget):
        return "date_input"
    # CheckboxSelectMultiple is a subclass of RadioSelect, so it comes first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.Select):  # also SelectMultiple
        return "select"
    if isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        return "file"
    input_type = getattr(widget, "input_type", "text")
    if isinstance(widget, forms.DateInput | forms.DateTimeInput):
        return "date"
    return input_type if input_type in WIDGET_CLASSES else "text"


@register.filter
def max_length(bound_field: forms.BoundField) -> int | None:
    """The field's max_length, for the GOV.UK character count on textareas."""
    return getattr(bound_field.field, "max_length", None)


@register.simple_tag
def field_describedby(
    bound_field: forms.BoundField, hint: str = "", character_count: bool = False
) -> str:
    """The ids of the hint, error message and character count message, in the
    order GOV.UK Frontend uses, for the field's `aria-describedby`."""
    field_id = bound_field.id_for_label or bound_field.auto_id
    ids = []
    if character_count:
        ids.append(f"{field_id}-info")
    if hint:
        ids.append(f"{field_id}-hint")
    if bound_field.errors:
        ids.append(f"{field_id}-error")
    return " ".join(ids)


@register.simple_tag
def govuk_widget(
    bound_field: forms.BoundField,
    classes: str = "",
    describedby: str = "",
    character_count: bool = False,
    autocomplete: str = "",
    spellcheck: str = "",
) -> SafeString:
    """Render the field's own widget with the GOV.UK classes added.

    Django renders the value, `name`, `id` and the choices, so formatting stays
    Django's. A character-counted textarea has no `maxlength`: the GOV.UK pattern
    lets people type past the limit and tells them by how much.
    """
    kind = widget_type(bound_field)
    base = WIDGET_CLASSES.get(kind, "govuk-input")
    css = [bound_field.field.widget.attrs.get("class", ""), base]
    if bound_field.errors:
        css.append(f"{base}--error")
    if character_count:
        css.append("govuk-js-character-count")
    if classes:
        css.append(classes)
    attrs: dict[str, Any] = {"class": " ".join(c for c in css if c)}
    if describedby:
        attrs["aria-describedby"] = describedby
    if character_count:
        attrs["maxlength"] = False
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    if spellcheck:
        attrs["spellcheck"] = spellcheck
    if isinstance(bound_field.field.widget, forms.NumberInput | forms.URLInput):
        return bound_field.as_widget(widget=text_input_for(bound_field.field), attrs=attrs)
    return bound_field.as_widget(attrs=attrs)


def text_input_for(field: forms.Field) -> forms.TextInput:
    """A number or web address field's input as `type="text"` with an `inputmode`
    (numeric, decimal for a decimal field, or url), so phones still show the right
    keyboard. GOV.UK asks for no `type="number"` (scrolling changes the value,
    browsers round it); and a number or url input given back what someone typed
    wrong ("lots", "hooks dot example") is invalid HTML, as its `value` must be a
    number or an absolute URL. `min`, `max` and `step` belong to number inputs
    only; the form checks the range."""
    kept = {k: v for k, v in field.widget.attrs.items() if k not in {"min", "max", "step"}}
    if isinstance(field.widget, forms.URLInput):
        mode = "url"
    elif isinstance(field, forms.DecimalField | forms.FloatField):
        mode = "decimal"
    else:
        mode = "numeric"
    return forms.TextInput(attrs={**kept, "inputmode": mode})


@register.filter
def first_input_id(bound_field: forms.BoundField) -> str:
    """The id an error summary link should point at: the input itself, or the
    first radio or checkbox of a group (GOV.UK's rule)."""
    if widget_type(bound_field) in {"radios", "checkboxes"}:
        return f"{bound_field.auto_id}_0"
    if widget_type(bound_field) == "date_input":
        return f"{bound_field.auto_id}-{_date_error_parts(bound_field)[0]}"
    return bound_field.id_for_label or bound_field.auto_id


def _date_error_parts(bound_field: forms.BoundField) -> tuple[str, ...]:
    """The inputs of a date the error is about: those the field's own check
    named, or all three for an error found later (an end before its start)."""
    field = bound_field.field
    named = field.error_parts if isinstance(field, GovukDateField) else ()
    return named or DATE_PARTS


@register.filter
def date_parts(bound_field: forms.BoundField) -> list[dict[str, Any]]:
    """The day, month and year inputs of a GOV.UK date input: name, id, label,
    value (what was typed, or the initial date), width and whether it is in error."""
    value = bound_field.value()
    if isinstance(value, dt.date):
        values = [str(value.day), str(value.month), str(value.year)]
    elif isinstance(value, list | tuple):
        values = [str(v or "") for v in value] + ["", "", ""]
    else:
        values = ["", "", ""]
    wrong = _date_error_parts(bound_field) if bound_field.errors else ()
    return [
        {
            "name": f"{bound_field.html_name}-{part}",
            "id": f"{bound_field.auto_id}-{part}",
            "label": part.capitalize(),
            "value": values[index],
            "width": 4 if part == "year" else 2,
            "error": part in wrong,
        }
        for index, part in enumerate(DATE_PARTS)
    ]


@register.simple_tag
def error_summary_items(form: forms.BaseForm | None) -> list[dict[str, str]]:
    """Each error of the form as {"href", "text"}, in field order.

    Errors about the form as a whole (like a wrong password) link to its first
    visible field, so every entry in the summary leads somewhere.
    """
    if form is None or not form.errors:
        return []
    visible = form.visible_fields()
    first = f"#{first_input_id(visible[0])}" if visible else "#main-content"
    items = [{"href": first, "text": str(error)} for error in form.non_field_errors()]
    for bound_field in form:
        if bound_field.is_hidden:
            items.extend({"href": first, "text": str(error)} for error in bound_field.errors)
            continue
        href = f"#{first_input_id(bound_field)}"
        items.extend({"href": href, "text": str(error)} for error in bound_field.errors)
    return items


@register.simple_tag
def status_tag(status: str) -> SafeString:
    """A GOV.UK tag for a proposal status, coloured from STATUS_TAG_COLOURS."""
    try:
        value = Status(status)
    except ValueError:
        return format_html('<strong class="govuk-tag govuk-tag--grey">{}</strong>', status)
    colour = STATUS_TAG_COLOURS.get(value, "grey")
    return format_html('<strong class="govuk-tag govuk-tag--{}">{}</strong>', colour, value.label)


# The service navigation: (label, path, roles that see it; None means everyone).
NAVIGATION: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("Find proposals", "/proposals/", None),
    ("Propose", "/proposals/new/", frozenset({Role.SUBMITTER, Role.REVIEWER, Role.LEAD})),
    ("Challenges", "/challenges/", None),
    ("Review", "/review/", frozenset({Role.REVIEWER, Role.LEAD})),
    ("Portfolio", "/portfolio/", frozenset({Role.LEAD, Role.ANALYST})),
    ("Experiments", "/experiments/", None),
    ("Lessons", "/lessons/", None),
    ("Reports", "/reports/", frozenset({Role.LEAD, Role.ANALYST})),
    ("Your account", "/account/", None),
)


@register.simple_tag(takes_context=True)
def navigation_items(context: template.Context) -> list[dict[str, Any]]:
    """The service navigation links this user may follow, the current one marked.

    Analysts read across government and never draft, so they do not see
    "Propose". The longest matching path is current, so /proposals/new/ marks
    "Propose" and not "Find proposals".
    """
    request: HttpRequest | None = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return []
    role = getattr(user, "role", Role.SUBMITTER)
    items = [
        {"text": text, "href": href, "active": False}
        for text, href, roles in NAVIGATION
        if roles is None or role in roles
    ]
    current = current_section(request.path_info)
    for item in items:
        item["active"] = item["href"] == current
    return items


# Pages under /proposals/<ref>/ that belong to another section than "Find proposals":
# the question pages are proposing, triage/assess/decide are reviewing, planning an
# experiment is experiments. Keyed by the URL's namespace:name, or by namespace alone.
SECTION_BY_VIEW: dict[str, str] = {
    "proposals:new": "/proposals/new/",
    "proposals:edit": "/proposals/new/",
    "proposals:attachments": "/proposals/new/",
    "proposals:attachment_remove": "/proposals/new/",
    "proposals:check_answers": "/proposals/new/",
    "proposals:submitted": "/proposals/new/",
    "proposals:delete": "/proposals/new/",
    "proposals:resubmit": "/proposals/new/",
    "proposals:propose_again": "/proposals/new/",
    "review": "/review/",
    "experiments": "/experiments/",
}


def current_section(path: str) -> str | None:
    """The navigation href of the section this path belongs to (the one place that decides).

    The page's view decides first (SECTION_BY_VIEW), so /proposals/<ref>/triage/ is
    "Review"; otherwise the longest navigation path the URL starts with.
    """
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None:
        for key in (match.view_name, match.namespace):
            if key and key in SECTION_BY_VIEW:
                return SECTION_BY_VIEW[key]
    prefixes = [href for _text, href, _roles in NAVIGATION if path.startswith(href)]
    return max(prefixes, key=len) if prefixes else None


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, number: int | str, param: str = "page") -> str:
    """`?…&page=N`: a link to another page that keeps the current filters."""
    request: HttpRequest | None = context.get("request")
    query = request.GET.copy() if request is not None else None
    if query is None:
        return f"?{param}={number}"
    query[param] = str(number)
    return f"?{query.urlencode()}"


@register.filter
def elided_pages(paginator: Any, number: int) -> list[int | str]:
    """Page numbers with "…" gaps, as GOV.UK pagination shows them."""
    return list(paginator.get_elided_page_range(number, on_each_side=1, on_ends=1))


@register.filter
def timedelta_minutes(value: Any) -> int:
    """A timedelta as whole minutes (rounded up), e.g. for the lockout page."""
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value)
    return max(1, -(-int(seconds) // 60))


@register.filter
def govuk_datetime(value: Any) -> str:
    """A moment as GOV.UK style writes it: "28 November 2026 at 9:05am" (local time)."""
    if not value:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


_EVALUATION_CHOICES: dict[str, dict[str, str]] = {
    "types": dict(EvaluationType.choices),
    "impact": dict(ImpactDesign.choices),
    "process": dict(ProcessDesign.choices),
    "economic": dict(EconomicDesign.choices),
}


@register.filter
def evaluation_labels(values: list[str] | None, kind: str) -> str:
    """An evaluation plan's stored types or designs, as their labels: "Impact; Process"."""
    labels = _EVALUATION_CHOICES.get(kind, {})
    return "; ".join(labels.get(v, v) for v in values or [])


_CODE_SPAN = re.compile(r"`([^`]+)`")


@register.filter
def code_spans(text: str) -> SafeString:
    """Markdown's `code` spans (the data dictionary's words use them) as <code>,
    everything escaped."""
    parts = _CODE_SPAN.split(str(text))
    # split() alternates plain text and the insides of the backticks.
    return SafeString(
        "".join(
            format_html("<code>{}</code>", part) if index % 2 else escape(part)
            for index, part in enumerate(parts)
        )
    )


# --- components/field.html --------------------------------------------------------------------
#
# The component every form field of the service renders through, written in Python:
# as a template it was most of a form page's template time (a dozen tags, includes and
# lookups per field, for the seven fields of a filter panel). The HTML is the template's,
# element for element (tests/proposals/test_templatetags_govuk.py, and the browser checks of
# tests/browser/test_components.py); the parameters are the
# include's (`{% include "components/field.html" with field=form.title label="…" %}`),
# read from the context as the template read them.

FIELD_OPTIONS = (
    "label",
    "heading",
    "label_size",
    "hint",
    "classes",
    "autocomplete",
    "spellcheck",
    "no_count",
    "optional",
    "inline",
    "small",
)


def _error_message(bound_field: forms.BoundField, field_id: str) -> str:
    if not bound_field.errors:
        return ""
    errors = "<br>".join(
        format_html('<span class="govuk-visually-hidden">Error:</span> {}', error)
        for error in bound_field.errors
    )
    return format_html(
        '<p id="{}-error" class="govuk-error-message">{}</p>', field_id, mark_safe(errors)
    )


def _group_class(bound_field: forms.BoundField, extra: str = "") -> str:
    error = " govuk-form-group--error" if bound_field.errors else ""
    return f"govuk-form-group{extra}{error}"


def _label_text(label_text: Any, optional: Any) -> str:
    return format_html("{}{}", label_text, " (optional)" if optional else "")


def _size(prefix: str, heading: Any, label_size: Any, default: str = "") -> str:
    if heading:
        return format_html(" {}--{}", prefix, heading)
    if label_size:
        return format_html(" {}--{}", prefix, label_size)
    return default


def _hint(field_id: str, hint_text: Any, extra: str = "") -> str:
    if not hint_text:
        return ""
    return format_html(
        '<div id="{}-hint" class="govuk-hint{}">{}</div>', field_id, extra, hint_text
    )


def _choices(bound_field: forms.BoundField, kind: str, options: dict[str, Any]) -> str:
    radios = kind == "radios"
    name = "radios" if radios else "checkboxes"
    modifiers = ""
    if radios and options["inline"]:
        modifiers += " govuk-radios--inline"
    if options["small"]:
        modifiers += f" govuk-{name}--small"
    items = []
    for option in bound_field.subwidgets:
        data = option.data
        value = str(data["value"])
        if radios and value == "":
            continue
        item = "radios__item" if radios else "checkboxes__item"
        items.append(
            format_html(
                '<div class="govuk-{}">\n<input class="govuk-{}__input" id="{}" name="{}"'
                ' type="{}" value="{}"{}>\n<label class="govuk-label govuk-{}__label"'
                ' for="{}">{}</label>\n</div>',
                item,
                name,
                data["attrs"].get("id", ""),
                data["name"],
                "radio" if radios else "checkbox",
                value,
                " checked" if data["selected"] else "",
                name,
                data["attrs"].get("id", ""),
                data["label"],
            )
        )
    return format_html(
        '<div class="govuk-{}{}" data-module="govuk-{}">\n{}\n</div>',
        name,
        modifiers,
        name,
        mark_safe("\n".join(items)),
    )


def _fieldset(
    bound_field: forms.BoundField, kind: str, field_id: str, texts: dict[str, Any]
) -> str:
    options = texts["options"]
    describedby = field_describedby(bound_field, hint=texts["hint"])
    label = _label_text(texts["label"], options["optional"])
    if options["heading"]:
        label = format_html('<h1 class="govuk-fieldset__heading">{}</h1>', label)
    legend_size = _size(
        "govuk-fieldset__legend",
        options["heading"],
        options["label_size"],
        " govuk-fieldset__legend--s",
    )
    return format_html(
        '<div class="{}">\n<fieldset class="govuk-fieldset"{}>\n'
        '<legend class="govuk-fieldset__legend{}">\n{}\n</legend>\n{}\n{}\n{}\n</fieldset>\n</div>',
        _group_class(bound_field),
        format_html(' aria-describedby="{}"', describedby) if describedby else "",
        legend_size,
        label,
        _hint(field_id, texts["hint"]),
        _error_message(bound_field, field_id),
        _choices(bound_field, kind, options),
    )


def _single_checkbox(bound_field: forms.BoundField, field_id: str, texts: dict[str, Any]) -> str:
    options = texts["options"]
    describedby = field_describedby(bound_field, hint=texts["hint"])
    return format_html(
        '<div class="{}">\n{}\n<div class="govuk-checkboxes{}" data-module="govuk-checkboxes">\n'
        '<div class="govuk-checkboxes__item">\n<input class="govuk-checkboxes__input" id="{}"'
        ' name="{}" type="checkbox" value="on"{}{}>\n<label class="govuk-label'
        ' govuk-checkboxes__label" for="{}">{}</label>\n{}\n</div>\n</div>\n</div>',
        _group_class(bound_field),
        _error_message(bound_field, field_id),
        " govuk-checkboxes--small" if options["small"] else "",
        field_id,
        bound_field.html_name,
        " checked" if bound_field.value() else "",
        format_html(' aria-describedby="{}"', describedby) if describedby else "",
        field_id,
        texts["label"],
        _hint(field_id, texts["hint"], " govuk-checkboxes__hint"),
    )


def _input(bound_field: forms.BoundField, kind: str, field_id: str, texts: dict[str, Any]) -> str:
    options = texts["options"]
    count = max_length(bound_field)
    counted = kind == "textarea" and bool(count) and not options["no_count"]
    describedby = field_describedby(bound_field, hint=texts["hint"], character_count=counted)
    if counted:
        opening = format_html(
            '<div class="{}" data-module="govuk-character-count" data-maxlength="{}">',
            _group_class(bound_field, " govuk-character-count"),
            localize(count),
        )
    else:
        opening = format_html('<div class="{}">', _group_class(bound_field))
    label = format_html(
        '<label class="govuk-label{}" for="{}">{}</label>',
        _size("govuk-label", options["heading"], options["label_size"]),
        field_id,
        _label_text(texts["label"], options["optional"]),
    )
    if options["heading"]:
        label = format_html('<h1 class="govuk-label-wrapper">\n{}\n</h1>', label)
    widget = govuk_widget(
        bound_field,
        classes=options["classes"] or "",
        describedby=describedby,
        character_count=counted,
        autocomplete="" if counted else (options["autocomplete"] or ""),
        spellcheck=options["spellcheck"] or "",
    )
    message = (
        format_html(
            '\n<div id="{}-info" class="govuk-hint govuk-character-count__message">'
            "You can enter up to {} characters</div>",
            field_id,
            localize(count),
        )
        if counted
        else ""
    )
    return format_html(
        "{}\n{}\n{}\n{}\n{}{}\n</div>",
        opening,
        label,
        _hint(field_id, texts["hint"]),
        _error_message(bound_field, field_id),
        widget,
        message,
    )


@register.simple_tag(takes_context=True)
def govuk_field(context: template.Context) -> SafeString:
    """`components/field.html`: the bound field in the context as its GOV.UK component."""
    bound_field = context.get("field")
    if not isinstance(bound_field, forms.BoundField):
        return mark_safe("")
    options = {name: context.get(name) for name in FIELD_OPTIONS}
    kind = widget_type(bound_field)
    field_id = bound_field.id_for_label or bound_field.auto_id
    texts = {
        "hint": options["hint"] or bound_field.help_text,
        "label": options["label"] or bound_field.label,
        "options": options,
    }
    if kind == "hidden":
        return mark_safe(str(bound_field))
    if kind == "date_input":
        with context.push(
            kind=kind, field_id=field_id, hint_text=texts["hint"], label_text=texts["label"]
        ):
            assert context.template is not None  # a tag renders inside a template
            date_input = context.template.engine.get_template("components/date_input.html")
            return mark_safe(date_input.render(context))
    if kind in {"radios", "checkboxes"}:
        return mark_safe(_fieldset(bound_field, kind, field_id, texts))
    if kind == "checkbox":
        return mark_safe(_single_checkbox(bound_field, field_id, texts))
    return mark_safe(_input(bound_field, kind, field_id, texts))
