"""Proposing an innovation from start to finish with only a keyboard, in Chromium,
with JavaScript on and off: the accessibility statement says you can.

No clicks and no filling by locator: Tab moves the focus, keys type, Enter presses
buttons, arrow keys choose a radio. Only the address bar (`goto`) is used directly,
as a person would type an address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from proposals.models import Proposal
from tests.browser.conftest import PASSWORD, page_title

pytestmark = pytest.mark.browser

FOCUSED_NAME = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  return (label || el.getAttribute('aria-label') || el.innerText || '').trim();
}"""


@pytest.fixture(params=["JavaScript on", "JavaScript off"])
def keyboard_page(request: Any, browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=request.param == "JavaScript on"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _tab_to(page: Any, name: str, limit: int = 100) -> None:
    """Press Tab until the control named `name` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_NAME) == name:
            return
    pytest.fail(f"Tab never reached {name!r} on {page.url}")


def _type_into(page: Any, name: str, text: str) -> None:
    _tab_to(page, name)
    page.keyboard.type(text)


def _press(page: Any, button: str) -> None:
    _tab_to(page, button)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_propose_an_innovation_from_start_to_finish_with_only_a_keyboard(keyboard_page, alice):
    page = keyboard_page
    page.goto("/accounts/login/")
    _type_into(page, "Email address", alice.email)
    _type_into(page, "Password", PASSWORD)
    _press(page, "Sign in")
    assert page.title() == page_title("Home")

    _press(page, "Propose")  # the service navigation's link
    assert page.title() == page_title("About your idea")
    _type_into(page, "Title", "Read attendance registers automatically")
    _type_into(page, "Summary", "Scan paper registers into the spreadsheet")
    _press(page, "Continue")
    assert page.title() == page_title("The problem")
    _type_into(page, "What problem are you trying to solve?", "Registers are copied by hand")
    _type_into(page, "Who has this problem?", "School office staff")
    _press(page, "Continue")
    assert page.title() == page_title("Your idea and its benefits")
    _type_into(page, "What do you propose?", "OCR on scanned registers")
    _type_into(page, "What benefits do you expect?", "Two hours a week for each school")
    _press(page, "Continue")
    assert page.title() == page_title("Costs and benefits")
    # Tab reaches the radio group's first option; the arrow key moves to and selects the next.
    _tab_to(page, "Under £10,000")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED_NAME) == "£10,000 to £50,000"
    _press(page, "Continue")
    assert page.title() == page_title("Themes, partners and who can see it")
    _press(page, "Continue")
    assert page.title() == page_title("Who else is working on this?")
    _press(page, "Continue")  # no co-authors
    assert page.title() == page_title("Attach files")
    _press(page, "Continue")  # attachments: none
    assert page.title() == page_title("Check your answers before submitting your proposal")
    _press(page, "Submit proposal")

    assert page.title() == page_title("Proposal submitted")
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert re.fullmatch(r"DFE-\d{4}-\d{4}", reference)
    proposal = Proposal.objects.get(reference=reference)
    assert proposal.submitter == alice
    assert proposal.cost_band == "10k_50k"
    assert proposal.status == "submitted"
