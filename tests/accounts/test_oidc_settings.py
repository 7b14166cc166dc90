"""With OIDC_* in the environment, settings.py and innovation/urls.py switch
single sign-on on: checked in a fresh interpreter, because settings are read
once at import and the rest of the test run has OIDC off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.contrib.auth import get_backends
from django.urls import reverse
print(json.dumps({
    "enabled": settings.OIDC_ENABLED,
    "backends": [type(b).__name__ for b in get_backends()],
    "init": reverse("oidc_authentication_init"),
    "callback": reverse("oidc_authentication_callback"),
    "failure": settings.LOGIN_REDIRECT_URL_FAILURE,
}))
"""


def run_probe(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OIDC_")} | {
        "DJANGO_SETTINGS_MODULE": "innovation.settings",
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_oidc_environment_turns_single_sign_on_on():
    result = run_probe(
        {
            "OIDC_CLIENT_ID": "client",
            "OIDC_CLIENT_SECRET": "secret",
            "OIDC_AUTHORIZATION_ENDPOINT": "https://login.example/authorize",
            "OIDC_TOKEN_ENDPOINT": "https://login.example/token",
            "OIDC_USERINFO_ENDPOINT": "https://login.example/userinfo",
            "OIDC_JWKS_ENDPOINT": "https://login.example/jwks",
        }
    )

    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe == {
        "enabled": True,
        "backends": ["LockoutBackend", "ModelBackend", "DepartmentOIDCBackend"],
        "init": "/oidc/authenticate/",
        "callback": "/oidc/callback/",
        "failure": "/accounts/login/",
    }


def test_oidc_without_its_endpoints_refuses_to_start():
    result = run_probe({"OIDC_CLIENT_ID": "client"})

    assert result.returncode == 1
    assert "OIDC_AUTHORIZATION_ENDPOINT is required when OIDC_CLIENT_ID is set" in result.stderr
