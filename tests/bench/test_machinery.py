"""The bench's machinery: two sizes in one run, the growth column, goals, and a
floor that answers differently failing its row. No time is asserted."""

from __future__ import annotations

import argparse

import pytest
from django.core.management import call_command

from bench import __main__ as cli
from bench import load, pages
from bench.core import COUNT, RATE, REGISTRY, Comparison, Context, Goal, Row, run
from bench.measurements import load_rows, session_writes
from bench.table import Line, from_json, render

# --- arguments -------------------------------------------------------------------------------


def test_two_sizes_give_one_database_each():
    options, targets = cli.parse(["--sizes", "10000,1000000"])
    assert [(t.size, t.url, t.borrowed) for t in targets] == [
        (10_000, "postgres://postgres@127.0.0.1:5432/innovation_bench_10000", False),
        (1_000_000, "postgres://postgres@127.0.0.1:5432/innovation_bench_1000000", False),
    ]
    assert not options.reuse


def test_sizes_are_sorted_deduplicated_and_may_be_written_short():
    assert cli.parse_sizes("1M,10k,10000") == [10_000, 1_000_000]
    for wrong in ("", "ten", "0", "-5"):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.parse_sizes(wrong)


def test_an_existing_database_is_measured_as_a_size_and_never_prepared():
    _, targets = cli.parse(
        [
            "--sizes",
            "10000",
            "--database",
            "1000000=postgres://postgres@127.0.0.1:5432/innovation_m1",
        ]
    )
    assert [(t.size, t.url.rsplit("/", 1)[1], t.borrowed) for t in targets] == [
        (10_000, "innovation_bench_10000", False),
        (1_000_000, "innovation_m1", True),
    ]
    # A borrowed database is neither dropped nor seeded (prepare only counts it).
    with pytest.raises(argparse.ArgumentTypeError):
        cli.parse_database("1000000:postgres://x/y")


def test_one_size_keeps_the_old_arguments(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    for argv in (["--proposals", "10000"], []):
        _, targets = cli.parse(argv)
        assert [(t.size, t.url.rsplit("/", 1)[1]) for t in targets] == [
            (10_000, "innovation_bench_10000")
        ]
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://h/elsewhere")
    assert cli.parse(["--proposals", "500"])[1][0].url == "postgres://h/elsewhere"
    with pytest.raises(SystemExit):
        cli.parse(["--proposals", "10", "--sizes", "10,20"])


# --- the table -------------------------------------------------------------------------------


def _line(name, small, big, *, goal=None, unit="s", floor=None):
    line = Line(name, goal or Goal())
    line.by_size[10_000] = Row(name, ours=small, floor=floor, unit=unit, size=10_000)
    line.by_size[1_000_000] = Row(name, ours=big, floor=floor, unit=unit, size=1_000_000)
    return line


def test_the_table_prints_both_sizes_and_the_growth_and_marks_misses():
    flat = _line("flat page", 0.020, 0.024, floor=0.010)
    steep = _line("steep page", 0.030, 0.300, floor=0.010)
    text = render([flat, steep], [10_000, 1_000_000])
    header = text.splitlines()[0]
    for column in ("10k ours", "10k ratio", "1M ours", "1M ratio", "growth 1M/10k", "verdict"):
        assert column in header
    assert flat.growth() == pytest.approx(1.2)
    assert steep.growth() == pytest.approx(10)
    assert flat.verdict() == "ok"
    assert steep.verdict() == "MISS"
    assert "10.00x" in text and "1.20x" in text
    assert "- [MISS] steep page: growth 10.0x > 1.5x" in text


def test_a_rate_grows_as_the_cost_of_one_request_and_has_a_minimum_ratio():
    goal = Goal(max_growth=1.5, min_ratio=0.2)
    line = _line("load", 100.0, 50.0, goal=goal, unit=RATE, floor=1000.0)
    assert line.growth() == pytest.approx(2)  # half the requests a second: twice the cost
    assert any("ratio 0.100x < 0.2x" in reason for reason in line.failures())
    assert "req/s" in render([line], [10_000, 1_000_000])


def test_a_count_has_no_growth_and_one_size_has_no_growth_column():
    counted = _line("writes", 1, 1, goal=Goal(None, max_ratio=1), unit=COUNT, floor=1)
    assert counted.growth() is None
    assert counted.verdict() == "ok"
    single = Line("one size", Goal())
    single.by_size[10_000] = Row("one size", ours=0.01, floor=0.005)
    assert "growth" not in render([single], [10_000]).splitlines()[0]


# --- the floor must give the same answer -----------------------------------------------------


@pytest.mark.django_db  # the query count opens the connection
def test_a_floor_that_answers_differently_fails_its_row():
    def measured(context):
        return Comparison(
            ours=lambda: [1, 2, 3],
            floor=lambda: [1, 2, 4],
            same=lambda ours, floor: None if ours == floor else f"{ours} vs {floor}",
        )

    row = run("wrong floor", measured, Context(proposals=10), repeat=1)
    assert row.differs == "[1, 2, 3] vs [1, 2, 4]"
    line = Line("wrong floor", Goal())
    line.by_size[10] = row
    assert line.broken()
    assert line.verdict() == "FAIL"
    assert "FLOOR DIFFERS" in render([line], [10])


@pytest.mark.django_db  # the query count opens the connection
def test_the_check_call_is_what_is_compared_with_the_floor():
    def measured(context):
        return Comparison(
            ours=lambda: b"<html>",
            check=lambda: {"ids": [1]},
            floor=lambda: {"ids": [1]},
            same=lambda ours, floor: None if ours == floor else "differs",
        )

    assert run("checked", measured, Context(proposals=10), repeat=1).differs == ""


@pytest.mark.django_db  # the query count opens the connection
def test_a_broken_comparison_counts_as_a_difference_and_an_error_is_kept():
    def measured(context):
        def fails(ours: object, floor: object) -> str | None:
            raise ZeroDivisionError("division by zero")

        return Comparison(ours=lambda: 1, floor=lambda: 2, same=fails)

    assert run("x", measured, Context(proposals=1), repeat=1).differs.startswith("cannot compare")

    def broken(context):
        raise ValueError("no")

    assert run("y", broken, Context(proposals=1), repeat=1).error == "ValueError: no"


@pytest.mark.django_db
def test_every_page_and_report_floor_gives_the_pages_answer(settings, reference_data):
    """On seeded data, each page row's hand-written floor answers what the page shows."""
    settings.DEMO_PASSWORD = "innovate-demo"
    settings.PORTFOLIO_CACHE_SECONDS = 0
    call_command("seed_demo", proposals=60)
    load_rows()
    context = Context(proposals=60)
    names = [e.name for e in REGISTRY if e.name.startswith(("page ", "report build", "API"))]
    assert len(names) >= 14
    for entry in REGISTRY:
        if entry.name in names:
            row = run(entry.name, entry.function, context, repeat=1)
            assert (entry.name, row.error, row.differs) == (entry.name, "", "")
            assert row.ours is not None and row.floor is not None


@pytest.mark.django_db
def test_the_floor_check_notices_a_page_that_differs(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    call_command("seed_demo", proposals=30)
    comparison = pages.find_analyst(Context(proposals=30))
    assert isinstance(comparison, Comparison)
    real_floor = comparison.floor
    assert real_floor is not None
    comparison.floor = lambda: {**real_floor(), "count": -1}
    row = run("tampered", lambda context: comparison, Context(proposals=30), repeat=1)
    assert "count: page" in row.differs


@pytest.mark.django_db
def test_the_session_row_counts_writes(settings, reference_data):
    settings.DEMO_PASSWORD = "innovate-demo"
    settings.SESSION_ACTIVITY_RESOLUTION = 60  # production's (the tests' settings say 0)
    call_command("seed_demo", proposals=10)
    row = session_writes(Context(proposals=10))
    assert row.unit == COUNT
    assert row.ours == 1  # the first request stamps the idle clock; none after it
    assert row.floor == 1


# --- the load client -------------------------------------------------------------------------


def test_the_load_client_sends_a_bounded_loopback_request_and_reads_its_status():
    payload = load.request_bytes("/review/", "sessionid=abc")
    assert payload.startswith(b"GET /review/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert b"Cookie: sessionid=abc\r\n" in payload and payload.endswith(b"\r\n\r\n")
    assert load.status_of(b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n{}") == 200
    assert load.status_of(b"") == 0
    assert load.Tally(ok=30, seconds=3).rate == 10


def test_a_saved_run_prints_the_same_table_again(tmp_path):
    steep = _line("steep page", 0.030, 0.300, floor=0.010)
    output = tmp_path / "run.json"
    cli.save(output, [steep])
    lines, sizes = from_json(output.read_text())
    assert sizes == [10_000, 1_000_000]
    assert render(lines, sizes) == render([steep], sizes)
