"""/api/docs/ in Chromium: a server-rendered way in without JavaScript, and the
Swagger UI widget passing axe's WCAG 2.2 AA rules with it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser


def test_api_docs_without_javascript_links_to_the_schema_and_guide(browser, live_server):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/api/docs/")
        assert page.get_by_role("heading", level=1).inner_text() == "Propose an innovation API"
        schema = page.get_by_role("link", name="OpenAPI schema")
        assert schema.is_visible()
        assert schema.get_attribute("href") == "/api/schema/"
        assert "docs/api.md" in page.locator("body").inner_text()
    finally:
        context.close()


def test_api_docs_widget_passes_wcag_22_aa_as_it_is_used(page):
    # axe's whole WCAG 2.2 AA set, nested-interactive and target-size included, on
    # each state of the widget a reader reaches: static/js/api-docs.js and
    # static/css/api-docs.css change Swagger UI's markup and colours where it fails.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/api/docs/")
    operation = page.locator("#operations-challenges-challenges_list")
    operation.wait_for(timeout=10_000)
    assert_accessible(page)

    # An operation opened: its summary button holds no link (an <a> without href is
    # text), yet deep linking still puts the operation in the address.
    summary = operation.locator(".opblock-summary-control")
    assert summary.locator("a[href], button, input, select, textarea, [tabindex]").count() == 0
    summary.click()
    operation.locator(".opblock-body").wait_for()
    assert page.url.endswith("#/challenges/challenges_list")
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    operation.locator(".live-responses-table").wait_for()
    assert_accessible(page)

    # A POST with a request body to fill in, its example drop-down, the schemas.
    submit = page.locator("#operations-proposals-proposals_create")
    submit.locator(".opblock-summary-control").click()
    submit.get_by_role("button", name="Try it out").click()
    submit.locator(".body-param__text").wait_for()
    page.locator(".swagger-ui .models .model-box-control").first.click()
    assert_accessible(page)

    # At 320 CSS pixels wide (WCAG 1.4.10) nothing makes the page scroll sideways,
    # the open operations' response tables included; then the Authorize dialog.
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    page.locator(".swagger-ui .auth-wrapper .btn.authorize").click()
    page.locator(".swagger-ui .modal-ux").wait_for()
    assert_accessible(page)


def test_api_docs_settings_and_plugin_run_under_the_csp(strict_page):
    # No bypass here: the service's CSP allows Swagger UI, our settings file and the
    # start-up script (all from this site), and the plugin has changed the markup.
    strict_page.goto("/api/docs/")
    strict_page.locator(".swagger-ui .opblock").first.wait_for(timeout=10_000)
    assert strict_page.evaluate("() => window.appApiDocsSettings.deepLinking") is True
    assert strict_page.locator(".swagger-ui .opblock-summary-control a[href]").count() == 0
