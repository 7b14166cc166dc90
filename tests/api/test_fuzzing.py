"""Schemathesis against the live /api/schema/: every operation is
exercised with generated valid and invalid input by a client holding a write
token, and the run fails on any 5xx or any response the schema does not allow.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.models import TokenScope
from proposals.services import api_token_create
from tests.api.world import build_world

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OPERATIONS = (
    46  # with the change feed, criteria, evaluations, experiment start, secrets, similar, follow
)
# The run is bounded by the number of examples per operation, not by a clock, so
# it tests the same cases on a fast machine and a loaded one (the seed is fixed).
MAX_EXAMPLES = 10
# Only a safety net for a hung server: a run that reaches it fails, it never
# silently tests less.
HANG_TIMEOUT_SECONDS = 900


def _st() -> str:
    found = Path(sys.executable).with_name("st")
    return str(found) if found.exists() else (shutil.which("st") or "st")


def test_schemathesis_finds_no_server_error_or_schema_violation(
    live_server, settings, tmp_path, alice, amir, rita, lena, bob, hugo, ana
) -> None:
    settings.API_SETTLING_LAG_SECONDS = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100000/minute"},
    }
    build_world(
        {"alice": alice, "amir": amir, "rita": rita, "lena": lena, "bob": bob, "hugo": hugo,
         "ana": ana}
    )  # fmt: skip
    # A lead's write token: the widest set of operations one caller may use.
    _, key = api_token_create(user=lena, name="schemathesis", scope=TokenScope.WRITE)

    result = subprocess.run(
        [
            _st(),
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Token {key}",
            "--checks",
            "all",
            # Schema-valid input can still be refused for what no schema can say (a
            # theme slug that does not exist, a rule of the lifecycle), with a 400.
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "20261128",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=HANG_TIMEOUT_SECONDS,
        check=False,
        cwd=tmp_path,  # schemathesis keeps a cache folder where it runs
    )

    output = result.stdout + result.stderr
    print(output[-3000:])  # the summary, with the number of generated cases (pytest -s)
    assert result.returncode == 0, output[-30000:]
    tested = re.search(r"(\d+) tested", output) or re.search(r"Tested:\s*(\d+)", output)
    assert tested is not None and int(tested.group(1)) == OPERATIONS, output[-5000:]
