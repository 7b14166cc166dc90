"""The printed table: one line per measurement, its sizes side by side, the growth
from the smallest size to the largest, and whether the row meets its goal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.core import COUNT, RATE, Goal, Row


@dataclass
class Line:
    """One measurement at every size it was run at."""

    name: str
    goal: Goal = field(default_factory=Goal)
    by_size: dict[int, Row] = field(default_factory=dict)

    def growth(self) -> float | None:
        """Cost at the largest size over cost at the smallest (None with one size)."""
        if len(self.by_size) < 2:
            return None
        small, big = self.by_size[min(self.by_size)], self.by_size[max(self.by_size)]
        if small.ours is None or big.ours is None or small.unit == COUNT:
            return None
        if small.unit == RATE:  # requests a second: the cost of one is its inverse
            return small.ours / big.ours if big.ours else None
        return big.ours / small.ours if small.ours else None

    def failures(self) -> list[str]:
        """Why this line misses its goal (empty: it meets it, or has none to meet)."""
        reasons = []
        for size, row in sorted(self.by_size.items()):
            label = size_label(size)
            if row.differs:
                reasons.append(f"{label}: FLOOR DIFFERS ({row.differs})")
            if row.error:
                reasons.append(f"{label}: ERROR ({row.error})")
            ratio = row.ratio
            if (
                ratio is not None
                and self.goal.max_ratio is not None
                and ratio > self.goal.max_ratio
            ):
                reasons.append(f"{label}: ratio {ratio:.2f}x > {self.goal.max_ratio:g}x")
            if (
                ratio is not None
                and self.goal.min_ratio is not None
                and ratio < self.goal.min_ratio
            ):
                reasons.append(f"{label}: ratio {ratio:.3f}x < {self.goal.min_ratio:g}x")
        growth = self.growth()
        if (
            growth is not None
            and self.goal.max_growth is not None
            and growth > self.goal.max_growth
        ):
            reasons.append(f"growth {growth:.1f}x > {self.goal.max_growth:g}x")
        return reasons

    def broken(self) -> bool:
        """The floor answered differently or the row raised: not a slow row, a wrong one."""
        return any(row.differs or row.error for row in self.by_size.values())

    def verdict(self) -> str:
        if self.broken():
            return "FAIL"
        measured = [row for row in self.by_size.values() if row.ours is not None]
        if not measured:
            return "—"
        return "MISS" if self.failures() else "ok"


def size_label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def value(amount: float | None, unit: str) -> str:
    if amount is None:
        return "—"
    if unit == RATE:
        return f"{amount:,.0f} req/s" if amount >= 100 else f"{amount:.1f} req/s"
    if unit == COUNT:
        return f"{amount:g}"
    return f"{amount:.2f} s" if amount >= 1 else f"{amount * 1000:.2f} ms"


def _ratio(row: Row) -> str:
    ratio = row.ratio
    if ratio is None:
        return "—"
    return f"{ratio:.3f}x" if ratio < 0.1 else f"{ratio:.2f}x"


def _queries(row: Row) -> str:
    if row.ours_queries is None:
        return "—"
    floor = "—" if row.floor_queries is None else str(row.floor_queries)
    return f"{row.ours_queries}/{floor}"


def _note(line: Line) -> str:
    """The notes of every size; once when they say the same."""
    notes = {size: row.note for size, row in sorted(line.by_size.items()) if row.note}
    if len(set(notes.values())) <= 1:
        return next(iter(notes.values()), "")
    return "; ".join(f"{size_label(size)}: {note}" for size, note in notes.items())


def render(lines: Sequence[Line], sizes: Sequence[int]) -> str:
    """The table as text: sizes side by side, then growth, goal, verdict and notes."""
    sizes = sorted(sizes)
    header = ["measurement"]
    for size in sizes:
        label = size_label(size)
        header += [f"{label} ours", f"{label} floor", f"{label} ratio", f"{label} queries"]
    if len(sizes) > 1:
        header.append(f"growth {size_label(sizes[-1])}/{size_label(sizes[0])}")
    header += ["goal", "verdict", "note"]
    body = []
    for line in lines:
        cells = [line.name]
        for size in sizes:
            row = line.by_size.get(size)
            if row is None:
                cells += ["—"] * 4
                continue
            cells += [value(row.ours, row.unit), value(row.floor, row.unit), _ratio(row)]
            cells.append(_queries(row))
        if len(sizes) > 1:
            growth = line.growth()
            cells.append("—" if growth is None else f"{growth:.2f}x")
        cells += [line.goal.describe(), line.verdict(), _note(line)]
        body.append(cells)
    widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()
        for cells in [header, *body]
    ]
    text.insert(1, "  ".join("-" * width for width in widths))
    misses = [(line, line.failures()) for line in lines]
    misses = [(line, reasons) for line, reasons in misses if reasons]
    if misses:
        text.append("")
        text.append("Rows that miss their goal or fail:")
        for line, reasons in misses:
            text.append(f"- [{line.verdict()}] {line.name}: " + "; ".join(reasons))
    return "\n".join(text)


def from_json(text: str) -> tuple[list[Line], list[int]]:
    """Lines saved by `python -m bench` (bench-results/*.json), to print again."""
    import json

    lines, sizes = [], set()
    for saved in json.loads(text):
        line = Line(saved["name"], Goal(**saved["goal"]))
        for size, row in saved["by_size"].items():
            line.by_size[int(size)] = Row(**row)
            sizes.add(int(size))
        lines.append(line)
    return lines, sorted(sizes)


if __name__ == "__main__":  # python -m bench.table bench-results/….json
    import sys
    from pathlib import Path

    print(render(*from_json(Path(sys.argv[1]).read_text())))
