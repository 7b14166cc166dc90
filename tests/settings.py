"""Settings for the test run: the production settings module, with test defaults
for what the environment does not say.

Tests run with production-like settings (DEBUG off) and a throwaway key; real
services come from DATABASE_URL and REDIS_URL when they are set.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Tests count queries and compare numbers right after writing rows.
os.environ.setdefault("PORTFOLIO_CACHE_SECONDS", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Each run gets its own folder for the embedded broker, uploads and emails.
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="innovation-test-"))

from innovation.settings import *  # noqa: F403

# Hashing with PBKDF2 costs ~0.3 s a user; tests make hundreds of users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Sign-in lockout counters per process and per test (tests/conftest.py clears
# them): the file cache in VAR_DIR is shared by parallel workers and outlives
# each test's rolled-back database. Tests of the Redis path set their own.
CACHES = {
    **CACHES,  # noqa: F405
    "sign_in": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sign-in"},
}

# Every request stamps the idle clock (and so writes the session), as before the
# once-a-minute stamp: a page's query count then does not depend on how recently
# the test client's session happened to be stamped. The stamp's own test sets 60.
SESSION_ACTIVITY_RESOLUTION = 0

# On SQLite, a test database in a file, not in memory: the browser tests' live
# server answers a page's chart images in parallel threads, and an in-memory
# database is one connection shared by all of them, on which they deadlock.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ["VAR_DIR"], "test.sqlite3")
    }
