"""One row at one size, in a process of its own: `python -m bench.worker NAME --size N`.

`python -m bench` starts one of these per row and size, with DATABASE_URL naming
that size's database, so each size has its own connection and caches and the
two sizes of a row run one after the other. The result is printed as one JSON
line starting with RESULT_MARK (anything the row prints goes to stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

RESULT_MARK = "BENCH-RESULT "
BASE_DIR = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("name")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--borrowed", action="store_true")
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovation.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from bench.core import Context, entry, run
    from bench.measurements import load_rows

    load_rows()
    found = entry(options.name)
    context = Context(proposals=options.size, borrowed=options.borrowed)
    with contextlib.redirect_stdout(sys.stderr):  # rows that print must not break the JSON
        row = run(found.name, found.function, context, options.repeat)
    print(RESULT_MARK + json.dumps(asdict(row), default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
