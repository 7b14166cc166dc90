"""docs/sign-in.md stays true: the callback it tells operators to register is the
one the code serves, and every setting it names is one the service reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "sign-in.md").read_text()
SETTINGS = (ROOT / "innovation" / "settings.py").read_text()


@pytest.mark.urls("tests.accounts.oidc_urls")
def test_the_callback_in_the_guide_is_the_one_the_code_serves():
    callback = reverse("oidc_authentication_callback")
    assert callback == "/oidc/callback/"
    assert f"`{callback}`" in DOC


def test_every_setting_the_guide_names_is_read_or_set_by_the_settings():
    named = set(re.findall(r"`(OIDC_[A-Z_]+|INVITATION_[A-Z_]+|BEHIND_TLS_PROXY)`", DOC))
    assert named, "the guide names its settings"
    for name in named:
        assert re.search(rf'"{name}"|^\s*{name} =', SETTINGS, re.MULTILINE), name


def test_the_readme_links_the_guide():
    assert "docs/sign-in.md" in (ROOT / "README.md").read_text()
