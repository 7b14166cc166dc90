"""A client of the change feed, as an integrating system writes one: follow
`next_cursor`, apply each event to a local mirror, remember every event."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


class FeedFollower:
    def __init__(self, api: Any, page_size: int = 100) -> None:
        self.api = api
        self.page_size = page_size
        self.cursor: str | None = None
        self.mirror: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []

    def follow(self) -> list[dict[str, Any]]:
        """Read until the feed has nothing more now; returns the new events."""
        new: list[dict[str, Any]] = []
        while True:
            url = f"/api/v1/changes/?page_size={self.page_size}"
            if self.cursor is not None:
                url += "&cursor=" + quote(self.cursor)
            response = self.api.get(url)
            assert response.status_code == 200, response.content
            body = response.json()
            for event in body["results"]:
                new.append(event)
                if event["type"] == "proposal.upserted":
                    self.mirror[event["id"]] = event["data"]
                else:
                    assert event["type"] == "proposal.removed"
                    assert event["data"] is None
                    self.mirror.pop(event["id"], None)
            self.cursor = body["next_cursor"]
            if not body["has_more"]:
                break
        self.events += new
        return new

    def references(self) -> dict[str, str]:
        return {row["reference"]: row["updated_at"] for row in self.mirror.values()}


def seen(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(reference, type) of each event, `upserted`/`removed`, in order."""
    return [(e["reference"], e["type"].split(".")[1]) for e in events]
