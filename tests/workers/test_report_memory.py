"""Memory: a report's peak memory does not grow with the number of rows (SPEC §5)."""

from __future__ import annotations

import tempfile
import tracemalloc

import pytest
from django.utils import timezone

from proposals import reports
from proposals.enums import Status
from proposals.models import Proposal

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def add_proposals(author, start: int, count: int) -> None:
    now = timezone.now()
    Proposal.objects.bulk_create(
        (
            Proposal(
                reference=f"MEM-2026-{n:06d}",
                title=f"Proposal {n} about automating the handling of forms",
                summary="Caseworkers retype paper forms by hand. " * 3,
                problem="Forms are retyped by hand, slowly. " * 5,
                who_has_the_problem="Caseworkers",
                proposed_solution="Optical character recognition. " * 5,
                expected_benefits="Hours saved. " * 5,
                cost_band="under_10k",
                estimated_benefit_gbp=n,
                department=author.department,
                submitter=author,
                status=Status.SUBMITTED,
                submitted_at=now,
            )
            for n in range(start, start + count)
        ),
        batch_size=2000,
    )


def peak_bytes(user, fmt: str) -> tuple[int, int]:
    """Peak Python memory while writing the export to a real file, and its row count."""
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            rows = reports.generate(user=user, kind="proposals", fmt=fmt, filters={}, out=out)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak, rows


# CSV here: every format shares the chunked row source this checks; tracemalloc
# makes ODS's cell-by-cell XML too slow for CI, and bench/export_rows.py measures
# ODS and JSON by peak RSS instead.
@pytest.mark.parametrize("fmt", ["csv"])
def test_export_peak_memory_is_flat_from_2000_to_20000_rows(fmt, alice, lena):
    add_proposals(alice, 0, 2_000)
    with tempfile.TemporaryFile() as out:  # warm caches (imports, compiled code) first, untraced
        reports.generate(user=lena, kind="proposals", fmt=fmt, filters={}, out=out)
    small, small_rows = peak_bytes(lena, fmt)
    add_proposals(alice, 2_000, 18_000)

    large, large_rows = peak_bytes(lena, fmt)

    assert (small_rows, large_rows) == (2_000, 20_000)
    assert large <= 1.2 * small, f"{fmt}: {small / 1e6:.1f} MB at 2k, {large / 1e6:.1f} MB at 20k"
