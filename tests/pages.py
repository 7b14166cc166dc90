"""Small helpers for tests of GOV.UK pages (view tests and browser tests alike)."""

from __future__ import annotations

from typing import Any

DASH = "\N{EN DASH}"


def page_title(name: str, error: bool = False) -> str:
    """The <title> every page has: "[Error: ]<name>, en dash, service name, en dash, GOV.UK"."""
    return f"{'Error: ' if error else ''}{name} {DASH} Propose an innovation {DASH} GOV.UK"


def title_of(response: Any) -> str:
    """The <title> of a test client response."""
    html = response.content.decode()
    return html.split("<title>", 1)[1].split("</title>", 1)[0]
