"""Loaded with `-p tests.envdefaults` before pytest-django reads the settings.

Tests run with production-like settings (DEBUG off) and a throwaway key; the
real services come from DATABASE_URL and REDIS_URL when they are set.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Each run gets its own folder for the embedded broker, uploads and emails.
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="innovation-test-"))
