"""The data dictionary: every field of every API resource and every export column,
with its meaning, type and allowed values, generated from the code.

- API resources: the OpenAPI schema drf-spectacular generates from the
  serializers (`api/serializers.py`), whose properties the schema hook
  (`api/schema.fill_descriptions`) describes from `help_text` or
  `proposals.glossary`; allowed values are the enums' (`proposals/enums.py`).
- Exports: the reports' column lists (`reports.PROPOSAL_COLUMNS`,
  `OUTCOME_COLUMNS`, `REGISTRY_COLUMNS`, `PORTFOLIO_COLUMNS`) and the open
  dataset's (`opendata.LESSON_COLUMNS`); types and choices come from the model
  field each column reads, meanings from the glossary (or the API field it is).

Served at /api/data-dictionary/ (HTML and JSON) and written to
docs/data-dictionary.md (`manage.py data_dictionary`). `undescribed()` lists
any field without a meaning: the test of this module fails on one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from django.db import models
from drf_spectacular.generators import SchemaGenerator

from proposals import glossary, opendata, reports
from proposals.enums import OutcomeResult, Status
from proposals.models import Decision, Outcome, Proposal


@dataclass(frozen=True)
class Value:
    value: str
    label: str


@dataclass(frozen=True)
class Entry:
    name: str
    type: str  # in words
    json_type: str  # string, integer, number, boolean, date, datetime, array, object
    meaning: str
    allowed: tuple[Value, ...] = ()
    optional: bool = False  # null or empty allowed
    refers_to: str = ""  # the section of a nested object


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    kind: str  # "API response", "API request body", "export", "open dataset"
    intro: str
    entries: tuple[Entry, ...] = field(default_factory=tuple)


# --- the API, from the schema ------------------------------------------------------------

_ENUM_LINE = re.compile(r"^\* `(?P<value>[^`]*)` - (?P<label>.*)$")
_FORMATS = {
    "date-time": ("date and time (ISO 8601, with time zone)", "datetime"),
    "date": ("date (ISO 8601)", "date"),
    "uri": ("URL", "string"),
    "uuid": ("UUID", "string"),
    "decimal": ("decimal number, as text", "string"),
    "email": ("email address", "string"),
}


def _component(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _enum_values(schema: dict[str, Any]) -> tuple[Value, ...]:
    labels = {}
    for line in (schema.get("description") or "").splitlines():
        match = _ENUM_LINE.match(line.strip())
        if match:
            labels[match["value"]] = match["label"]
    return tuple(Value(str(v), labels.get(str(v), str(v))) for v in schema["enum"] if v)


def _describe(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Type in words, JSON type, allowed values, optional, refers_to, of one property."""
    optional = bool(prop.get("nullable"))
    if "allOf" in prop:
        prop = {**prop["allOf"][0], "nullable": prop.get("nullable")}
    if "oneOf" in prop:
        options = [o for o in prop["oneOf"] if _component(o.get("$ref", "")) not in BLANK]
        optional = optional or len(options) < len(prop["oneOf"])
        prop = options[0] if options else {"type": "string"}
    if "$ref" in prop:
        name = _component(prop["$ref"])
        target = components.get(name, {})
        if "enum" in target:
            return {
                "type": "code",
                "json_type": "string",
                "allowed": _enum_values(target),
                "optional": optional,
            }
        return {"type": f"object ({name})", "json_type": "object", "optional": optional,
                "refers_to": name}  # fmt: skip
    if "enum" in prop:
        return {"type": "code", "json_type": "string", "allowed": _enum_values(prop),
                "optional": optional}  # fmt: skip
    kind = prop.get("type", "object")
    if kind == "array":
        inner = _describe(prop.get("items", {}), components)
        return {
            "type": f"list of {inner['type']}",
            "json_type": "array",
            "allowed": inner.get("allowed", ()),
            "optional": optional,
            "refers_to": inner.get("refers_to", ""),
        }
    if kind == "string" and prop.get("format") in _FORMATS:
        words, json_type = _FORMATS[prop["format"]]
        return {"type": words, "json_type": json_type, "optional": optional}
    words = {
        "string": "text",
        "integer": "whole number",
        "number": "number",
        "boolean": "true or false",
        "object": "object",
    }[kind]
    return {"type": words, "json_type": kind, "optional": optional}


BLANK = {"BlankEnum", "NullEnum"}


def _api_sections(schema: dict[str, Any]) -> list[Section]:
    components = schema["components"]["schemas"]
    sections = []
    for name, component in sorted(components.items()):
        if "properties" not in component:
            continue  # an enum: its values are listed with the fields that take it
        entries = []
        for prop_name, prop in component["properties"].items():
            described = _describe(prop, components)
            entries.append(
                Entry(name=prop_name, meaning=(prop.get("description") or "").strip(), **described)
            )
        request = name.endswith("Request")
        sections.append(
            Section(
                id=name,
                title=name,
                kind="API request body" if request else "API response",
                intro=(component.get("description") or "").strip(),
                entries=tuple(entries),
            )
        )
    return sections


def api_schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


# --- exports, from the column lists and the models -----------------------------------------

# Columns computed rather than read from one model field: (type, JSON type, model field).
_COMPUTED: dict[str, tuple[str, str, models.Field[Any, Any] | None]] = {
    "themes": ("list of text, `; `-separated", "string", None),
    "collaborating_departments": ("list of text, `; `-separated", "string", None),
    "metrics": ("list of text, `; `-separated", "string", None),
    "url": ("URL", "string", None),
    "experiment__proposal__url": ("URL", "string", None),
    "decision_kind": ("code", "string", Decision._meta.get_field("kind")),  # type: ignore[dict-item]
    "decision_rationale": ("text", "string", None),
}


def _model_field(model: type[models.Model], path: str) -> models.Field[Any, Any]:
    *hops, last = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model  # type: ignore[assignment]
    return model._meta.get_field(last)  # type: ignore[return-value]


def _field_type(model_field: models.Field[Any, Any]) -> tuple[str, str]:
    if model_field.choices:
        return "code", "string"
    if isinstance(model_field, models.BooleanField):
        return "yes or no", "boolean"
    if isinstance(model_field, models.DateTimeField):
        return _FORMATS["date-time"]
    if isinstance(model_field, models.DateField):
        return _FORMATS["date"]
    if isinstance(model_field, models.IntegerField):
        return "whole number", "integer"
    if isinstance(model_field, models.DecimalField):
        return "decimal number", "number"
    if isinstance(model_field, models.URLField):
        return "URL", "string"
    return "text", "string"


def _column(name: str, source: str, model: type[models.Model]) -> Entry:
    computed = _COMPUTED.get(source)
    if computed is not None:
        words, json_type, model_field = computed
        if model_field is None:
            return Entry(name, words, json_type, glossary.column_meaning(source))
    else:
        model_field = _model_field(model, source)
        words, json_type = _field_type(model_field)
    allowed = tuple(Value(str(v), str(label)) for v, label in model_field.choices or () if v)
    optional = bool(model_field.null or model_field.blank) and not isinstance(
        model_field, models.BooleanField
    )
    return Entry(
        name, words, json_type, glossary.column_meaning(source), allowed, optional=optional
    )


def _registry_section(api: dict[str, Section]) -> Section:
    fields = {entry.name: entry for entry in api["EvaluationOut"].entries}
    entries = []
    for column in reports.REGISTRY_COLUMNS:
        entry = fields[column]
        if column in reports.REGISTRY_LISTS:
            entry = Entry(
                column,
                entry.type + ", `;`-separated",
                "string",
                entry.meaning,
                entry.allowed,
                optional=True,
            )
        else:
            entry = Entry(
                column,
                entry.type,
                entry.json_type,
                glossary.meaning("EvaluationRegistry", column),
                entry.allowed,
                optional=entry.optional,
            )
        entries.append(entry)
    return Section(
        id="export-evaluation_registry",
        title="Evaluation Registry hand-off (report kind `evaluation_registry`)",
        kind="export",
        intro=f"{glossary.REGISTRY_INTRODUCTION} {glossary.REGISTRY_FORMATS}",
        entries=tuple(entries),
    )


_PORTFOLIO_TYPES = {
    "Figure": ("text", "string"),
    "Value": ("number, or empty (text for “Figures as of”)", "number"),
    "Status": ("text (a status's label)", "string"),
    "Department": ("text", "string"),
    "Theme": ("text", "string"),
    "Result": ("code", "string"),
}


def _portfolio_sections() -> list[Section]:
    sections = []
    for table, columns in reports.PORTFOLIO_COLUMNS.items():
        entries = []
        for column in columns:
            words, json_type = _PORTFOLIO_TYPES.get(column, ("whole number", "integer"))
            allowed: tuple[Value, ...] = ()
            if column == "Figure":
                figures = (*reports.SUMMARY_FIGURES, reports.FIGURES_AS_OF)
                allowed = tuple(Value(f, f) for f in figures)
            elif column == "Status":
                allowed = tuple(Value(str(label), str(label)) for label in Status.labels)
            elif column == "Result":
                allowed = tuple(Value(str(v), str(label)) for v, label in OutcomeResult.choices)
            elif "benefit" in column or "Median" in column:
                words, json_type = "number, or empty", "number"
            entries.append(
                Entry(
                    column,
                    words,
                    json_type,
                    glossary.PORTFOLIO.get(table, {}).get(column, ""),
                    allowed,
                )
            )
        sections.append(
            Section(
                id="export-portfolio-" + re.sub(r"[^a-z]+", "-", table.lower()).strip("-"),
                title=f"Portfolio summary (report kind `portfolio`): {table}",
                kind="export",
                intro="",
                entries=tuple(entries),
            )
        )
    return sections


REPORT_NOTE = (
    "Every row comes from the visibility rule (`selectors.proposals_visible_to`): a report "
    "shows exactly what its requester may see on the pages. Codes, not labels, are written "
    "for every choice; dates are ISO 8601; `yes`/`no` for true and false in CSV; cells that "
    "a spreadsheet would read as a formula are prefixed with `'`."
)


def _export_sections(api: dict[str, Section]) -> list[Section]:
    return [
        Section(
            id="export-proposals",
            title="Proposals export (report kind `proposals`)",
            kind="export",
            intro=REPORT_NOTE,
            entries=tuple(
                _column(label, source, Proposal) for label, source in reports.PROPOSAL_COLUMNS
            ),
        ),
        Section(
            id="export-outcomes",
            title="Experiment outcomes (report kind `outcomes`)",
            kind="export",
            intro=REPORT_NOTE,
            entries=tuple(
                _column(label, source, Outcome) for label, source in reports.OUTCOME_COLUMNS
            ),
        ),
        _registry_section(api),
        *_portfolio_sections(),
        Section(
            id="open-data-lessons",
            title="Open dataset: published lessons (/data/lessons.csv)",
            kind="open dataset",
            intro=glossary.LESSONS_DATASET["description"],
            entries=tuple(
                _column(name, source, Outcome) for name, source in opendata.LESSON_COLUMNS
            ),
        ),
    ]


# --- the whole ---------------------------------------------------------------------------


def build() -> tuple[Section, ...]:
    api = _api_sections(api_schema())
    by_id = {section.id: section for section in api}
    return (*_export_sections(by_id), *api)


@lru_cache(maxsize=1)
def sections() -> tuple[Section, ...]:
    """The dictionary, built once per process (it changes only with the code)."""
    return build()


def undescribed(built: Iterable[Section] | None = None) -> list[str]:
    """Every `section.field` without a meaning: none may reach the API or an export."""
    return [
        f"{section.id}.{entry.name}"
        for section in (built if built is not None else build())
        for entry in section.entries
        if not entry.meaning.strip()
    ]


def as_json(built: Sequence[Section]) -> dict[str, Any]:
    return {
        "title": "Data dictionary",
        "sections": [
            {
                **{k: v for k, v in asdict(section).items() if k != "entries"},
                "fields": [asdict(entry) for entry in section.entries],
            }
            for section in built
        ],
    }


def section(built: Sequence[Section], section_id: str) -> Section:
    return next(s for s in built if s.id == section_id)


def table_schema(built: Sequence[Section]) -> dict[str, Any]:
    """The open dataset's Frictionless Table Schema, from its section of the dictionary."""
    types = {"datetime": "datetime", "date": "date", "integer": "integer", "number": "number"}
    lessons = section(built, "open-data-lessons")
    fields = []
    for entry in lessons.entries:
        spec: dict[str, Any] = {
            "name": entry.name,
            "type": types.get(entry.json_type, "string"),
            "description": entry.meaning,
        }
        if entry.json_type == "string" and entry.type == "URL":
            spec["format"] = "uri"
        constraints: dict[str, Any] = {"required": not entry.optional}
        if entry.allowed:
            constraints["enum"] = [v.value for v in entry.allowed]
        spec["constraints"] = constraints
        fields.append(spec)
    return {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "fields": fields,
        "missingValues": [""],
    }


# --- Markdown (docs/data-dictionary.md) --------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(built: Sequence[Section]) -> str:
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated by `python manage.py data_dictionary` from the code: do not edit. -->",
        "",
        "Every field of every API resource and every column of every export, with its "
        "meaning, type and allowed values. The same is served at `/api/data-dictionary/` "
        "(HTML, and JSON with `?format=json`). The words live in `proposals/glossary.py` "
        "(and the serializers' help texts); types and allowed values come from the "
        "serializers, the models and `proposals/enums.py`.",
        "",
    ]
    for item in built:
        lines += [f"## {item.title}", "", f"{item.kind.capitalize()}.", ""]
        if item.intro:
            lines += [item.intro, ""]
        lines += ["| field | type | allowed values | meaning |", "|---|---|---|---|"]
        for entry in item.entries:
            allowed = ", ".join(f"`{v.value}`" for v in entry.allowed)
            kind = entry.type + (", or empty" if entry.optional else "")
            lines.append(
                f"| `{_cell(entry.name)}` | {_cell(kind)} | {_cell(allowed)} | "
                f"{_cell(entry.meaning)} |"
            )
        lines.append("")
    return "\n".join(lines)
