"""Helpers for the submitter page tests: proposals in a given state through the services."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from proposals import services
from proposals.models import Proposal

ANSWERS = {
    "title": "Read scanned forms automatically",
    "summary": "OCR for paper forms",
    "problem": "Caseworkers retype 40,000 paper forms a year",
    "who_has_the_problem": "Caseworkers in regional offices",
    "proposed_solution": "Use OCR to read forms into the case system",
    "expected_benefits": "3,000 hours a year",
    "cost_band": "10k_50k",
}

# Real file openings: what `filetype` recognises.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def draft(author: User, **answers: Any) -> Proposal:
    return services.proposal_create_draft(author=author, data={**ANSWERS, **answers})


def submitted(author: User, **answers: Any) -> Proposal:
    proposal = draft(author, **answers)
    return services.proposal_transition(proposal=proposal, actor=author, action="submit")


def html(response: Any) -> str:
    return response.content.decode()
