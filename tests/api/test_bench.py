"""The bench measurement runs and compares like with like (a signed-in session
through the whole stack against the same query raw + orjson)."""

from __future__ import annotations

import os

import pytest

from bench.api_rows import measure
from tests.api.test_lists import _bulk_proposals


@pytest.mark.django_db
def test_api_rows_bench_measures_the_same_500_rows(alice, bob) -> None:
    _bulk_proposals(alice, bob, 700)

    result = measure(alice, repeat=int(os.environ.get("BENCH_REPEAT", "3")))

    print(result)  # pytest -s shows the ratio
    assert result["rows"] == 500
    assert result["raw_rows"] == 500
    assert result["differs"] is None  # the same references, in the same order
    assert result["api_ms"] > 0
    assert result["raw_ms"] > 0
    # Both are rounded from the unrounded times, so allow for the rounding.
    assert result["ratio"] == pytest.approx(result["api_ms"] / result["raw_ms"], abs=0.01)
