"""Path converters of the domain's pages."""

from __future__ import annotations

from django.urls import register_converter


class ReferenceConverter:
    """DFE-2026-0042, in any case (the page redirects to the capitalised address).

    Every route that takes a reference uses it, so that anything else (a NUL
    byte, a slash, a word) is a 404 before a view or the database sees it.
    """

    regex = r"[A-Za-z0-9]+-[0-9]{4}-[0-9]{4,}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")
