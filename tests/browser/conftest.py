"""Browser tests: Playwright's sync API driving Debian's Chromium against
pytest-django's live server, with axe-core checking every page for WCAG 2.2 AA.

How to write one:

    pytestmark = pytest.mark.browser

    def test_sign_in_page_is_accessible(page, live_server, alice):
        page.goto(f"{live_server.url}/accounts/login/")
        assert_accessible(page)

What the fixtures here take care of:
- `browser` (session): Chromium at /usr/bin/chromium (CHROMIUM_PATH overrides).
  Playwright's own browser download does not work here. No Chromium or no
  Playwright: skipped, or failed under CI=true (`skip_or_fail`).
- `page`: a fresh context per test with `bypass_csp=True`, because axe is
  injected as a script and our CSP (rightly) blocks that. Everything else about
  the CSP still holds for the page's own scripts and styles, so the test in
  test_pages.py that checks govuk-frontend under the CSP uses its own context
  *without* bypass_csp (`strict_page`).
- The database: the live server runs in another thread, so these tests need
  `transactional_db`, which empties every table after each test, including
  the departments and themes that data migrations load. The autouse
  `_reference_data` fixture below loads them again before each browser test
  (tests/reference_data.py says why serialized rollback does not work here),
  so fixtures like `alice` that need DfE just work.
- `DJANGO_ALLOW_ASYNC_UNSAFE`: Playwright's sync API runs an event loop in
  this thread, and Django refuses ORM calls from a thread with a running loop
  unless this is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail
from tests.pages import page_title
from tests.reference_data import load_reference_data

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# WCAG 2.2 AA, as the service standard asks.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
__all__ = ["assert_accessible", "page_title", "sign_in"]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test in this folder drives a browser, so `-m "not browser"` skips them all.
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _reference_data(transactional_db: None) -> None:
    load_reference_data()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Imported here, not at the top: without Playwright the browser tests skip (fail in CI)
    # with a clear reason, and the rest of the suite still collects.
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional dependency
    except ImportError:
        skip_or_fail("needs Playwright: pip install playwright")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        skip_or_fail(f"needs Chromium at {CHROMIUM} (Debian package chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies), able to inject axe."""
    context = browser.new_context(bypass_csp=True, base_url=live_server.url)
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.fixture
def strict_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page whose context enforces the CSP (no axe): for testing the CSP itself."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    yield new_page
    context.close()


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form, as a person would, and wait for the next page."""
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()


def assert_accessible(page: Any, tags: list[str] | None = None) -> None:
    """Run axe-core on the page as it is now; fail listing every violation."""
    if not AXE_PATH.exists():
        skip_or_fail(f"needs axe-core: run `npm ci` ({AXE_PATH} is missing)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_PATH))
    results = page.evaluate(
        """async (tags) => await window.axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            resultTypes: ['violations'],
        })""",
        tags or AXE_TAGS,
    )
    violations = results["violations"]
    if violations:
        lines = [f"axe found {len(violations)} accessibility problem(s) on {page.url}:"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            for node in violation["nodes"]:
                lines.append(f"    {', '.join(map(str, node['target']))}: {node['failureSummary']}")
        pytest.fail("\n".join(lines), pytrace=False)
