"""Settings for Propose an innovation: one file, configured only by the environment.

Every variable is listed, with its default, in the README's configuration
table. The defaults are the embedded ones (SQLite in WAL mode, a filesystem
Celery broker, emails written to a folder) so that `make run` needs no server;
`DATABASE_URL`, `CELERY_BROKER_URL` and the others switch to real services.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from innovation.env import env_bool, env_float, env_int, env_list, env_str

# Similar proposals multiply a vector by every stored one (numpy, OpenBLAS). Each
# web and worker process is one of several on the machine: one BLAS thread each
# answered in 21 ms where the default (a thread per core, all contending) took
# 47 ms at 100,000 proposals. Read when numpy is first imported, so set here.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the embedded default writes (database, broker, emails, uploads).
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it (50+ random characters) in production, "
            "or DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-true"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The absolute address used in emails, webhooks and the API's `url` fields.
SITE_URL = (env_str("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
SERVICE_NAME = "Propose an innovation"
# Where the phase banner's feedback link and the accessibility statement send people.
FEEDBACK_EMAIL = env_str("FEEDBACK_EMAIL", "feedback@innovation.example")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "accounts",
    "proposals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # With DEBUG (make run), still the service's own 404 page, not Django's technical one.
    "innovation.middleware.ServicePageNotFoundMiddleware",
    # Refuses a body over the limit from its Content-Length, before anything reads it
    # (no middleware above reads the body; CSRF's check runs in process_view, later).
    "innovation.middleware.RequestSizeLimitMiddleware",
    # Ends sessions idle for longer than SESSION_IDLE_TIMEOUT, or older than
    # SESSION_ABSOLUTE_TIMEOUT (needs the user and messages).
    "accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "innovation.middleware.PermissionsPolicyMiddleware",
    # RateLimit-* headers on API answers, from what the API's throttle counted.
    "proposals.api.throttling.RateLimitHeadersMiddleware",
]

ROOT_URLCONF = "innovation.urls"
WSGI_APPLICATION = "innovation.wsgi.application"
ASGI_APPLICATION = "innovation.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "innovation.context_processors.service",
            ],
        },
    },
]

# Django's widget templates, with inputs, textareas and selects rendered in Python
# (the same HTML, a fraction of the time: innovation/form_renderer.py).
FORM_RENDERER = "innovation.form_renderer.WidgetRenderer"

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
    except Exception as exc:  # django-environ raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if not DATABASES["default"].get("ENGINE"):
        # django-environ only warns about an unknown scheme and returns no engine.
        raise ImproperlyConfigured(
            "DATABASE_URL is not a database URL: use postgres://user:password@host:5432/name"
        )
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        if env_bool("DATABASE_POOL", False):
            # psycopg's pool replaces persistent connections; the two cannot be combined.
            DATABASES["default"]["OPTIONS"] = {
                "pool": {
                    "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=1),
                    "max_size": env_int("DATABASE_POOL_MAX", 10, minimum=1),
                }
            }
        else:
            DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60, minimum=0)
            DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # WAL lets the web server and the Celery worker read while the other
                # writes; IMMEDIATE takes the write lock at BEGIN so two writers queue
                # instead of failing with "database is locked" half-way through.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Search's first page from a RUM index in rank order (migration 0017 makes it when
# this is on and the extension is installed); off: the first matches found, ranked.
SEARCH_RUM = env_bool("SEARCH_RUM", False)
# The portfolio's covering indexes (INCLUDE columns) are for PostgreSQL; SQLite
# keeps their key columns and ignores the rest, which is all the embedded default
# needs, so its warning about them (models.W040) would only be noise at every start.
SILENCED_SYSTEM_CHECKS = [] if IS_POSTGRES else ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked.
    "accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- Sessions and security headers ----------------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 8, minimum=300)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60, minimum=120)
# However active, a sign-in ends this long after it began (accounts.middleware).
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT", 12 * 60 * 60, minimum=300)
# Not on every request: the idle clock is stamped at most once a minute
# (accounts.middleware), so a signed-in page view does not write its session.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_ACTIVITY_RESOLUTION = env_int("SESSION_ACTIVITY_RESOLUTION", 60, minimum=0)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "innovation.pages.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # /healthz is probed over plain HTTP inside the container network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A strict policy: no inline script or style anywhere. The one inline script
# GOV.UK Frontend needs (marking <body> as JS-enabled) carries the nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Sign-in lockout (accounts.lockout): by account and by IP address, separately ---------
# The AXES_* names are what these were called under django-axes; still read.
SIGN_IN_LOCKOUT_ENABLED = env_bool("SIGN_IN_LOCKOUT_ENABLED", env_bool("AXES_ENABLED", True))
SIGN_IN_ACCOUNT_LIMIT = env_int(
    "SIGN_IN_ACCOUNT_LIMIT", env_int("AXES_FAILURE_LIMIT", 5, minimum=1), minimum=1
)
SIGN_IN_IP_LIMIT = env_int("SIGN_IN_IP_LIMIT", 30, minimum=1)
SIGN_IN_LOCKOUT_MINUTES = env_int(
    "SIGN_IN_LOCKOUT_MINUTES", round(env_float("AXES_COOLOFF_HOURS", 0.5) * 60), minimum=1
)
# Proxies in front that append the client's address to X-Forwarded-For (a load
# balancer: 1). With 0 the connection's own address is used and the header ignored,
# since a client can write anything in it.
TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", False) else 0, minimum=0
)

# --- OpenID Connect single sign-on (optional) -----------------------------------------
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_ENABLED = OIDC_RP_CLIENT_ID is not None
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("accounts.oidc.DepartmentOIDCBackend")
    OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
    OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_JWKS_ENDPOINT")
    OIDC_RP_SCOPES = "openid email profile"
    # A refused sign-in goes back to the sign-in page, which says why.
    LOGIN_REDIRECT_URL_FAILURE = LOGIN_URL
    for _name in ("OIDC_AUTHORIZATION_ENDPOINT", "OIDC_TOKEN_ENDPOINT", "OIDC_USERINFO_ENDPOINT"):
        if env_str(_name) is None:
            raise ImproperlyConfigured(f"{_name} is required when OIDC_CLIENT_ID is set")

# --- Invitations (people without single sign-on) --------------------------------------
# A lead's invitation link works this many days, once (docs/sign-in.md).
INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 7, minimum=1)

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files and uploads -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")) or VAR_DIR / "media")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
if env_str("AWS_STORAGE_BUCKET_NAME"):
    # Any S3-compatible store (django-storages must then be installed).
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL"),
            "querystring_auth": True,
        },
    }
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_MB", 10, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# The largest request body accepted at all, judged from Content-Length before it is
# read (innovation.middleware): an attachment at its limit plus the form around it.
REQUEST_BODY_MAX_BYTES = env_int(
    "REQUEST_BODY_MAX_BYTES",
    ATTACHMENT_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE,
    minimum=DATA_UPLOAD_MAX_MEMORY_SIZE,
)

# --- Cache (rate limits and lockouts must be shared by every process) ----------------------
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_CACHE_URL")
CACHES: dict[str, dict[str, Any]]
if CACHE_URL:
    CACHES = {
        # Redis, falling back to memory per process while Redis is down (innovation/cache.py).
        "default": {"BACKEND": "innovation.cache.FallbackRedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }
# Sign-in lockout counters: the same store under their own alias, so tests can
# give them a store of their own; over Redis with short timeouts, so a Redis that
# does not answer sends accounts.lockout to its fallback within a second.
CACHES["sign_in"] = {**CACHES["default"], "KEY_PREFIX": "sign-in"}
if CACHE_URL:
    CACHES["sign_in"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}

# The portfolio's figures for every scope are recomputed this often (beat,
# proposals.tasks.refresh_portfolio) and read from the snapshot, which the page and
# the weekly email date ("Figures as of …"): aggregating a million proposals takes
# a second or more, too long for a page.
PORTFOLIO_REFRESH_SECONDS = env_int("PORTFOLIO_REFRESH_SECONDS", 600, minimum=10)
# Figures the snapshot does not hold (a period chosen) are computed live; the page
# and its chart images share that computation for this many seconds (0 turns it off).
PORTFOLIO_CACHE_SECONDS = env_int("PORTFOLIO_CACHE_SECONDS", 60, minimum=0)

# --- Email ---------------------------------------------------------------------------------
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "emails"))
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "Propose an innovation <noreply@innovation.example>"
)
GOVUK_NOTIFY_API_KEY = env_str("GOVUK_NOTIFY_API_KEY")
GOVUK_NOTIFY_BASE_URL = env_str("GOVUK_NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
# One Notify email template whose subject is "((subject))" and body "((body))".
GOVUK_NOTIFY_TEMPLATE_ID = env_str("GOVUK_NOTIFY_TEMPLATE_ID")
if GOVUK_NOTIFY_API_KEY and not GOVUK_NOTIFY_TEMPLATE_ID:
    raise ImproperlyConfigured(
        "GOVUK_NOTIFY_TEMPLATE_ID is required when GOVUK_NOTIFY_API_KEY is set"
    )

# --- Celery ------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    # The embedded broker: messages are files in one folder that the web server
    # writes and the worker reads, so it works across processes with no server.
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
else:
    if str(CELERY_BROKER_URL).startswith(("redis://", "rediss://")):
        # kombu's Redis transport with a guard that keeps the worker alive when
        # Redis restarts (innovation/broker.py explains the fault).
        CELERY_BROKER_TRANSPORT = "innovation.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest task (CELERY_TASK_TIME_LIMIT), or Redis would hand an
        # unacknowledged message to a second worker while the first still runs it.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200, minimum=60),
    }
    if env_str("CELERY_BROKER_KEY_PREFIX"):
        # Lets several environments (or parallel test runs) share one Redis safely.
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("CELERY_BROKER_KEY_PREFIX")
# A worker waits for its broker as long as it takes, trying every few seconds
# (innovation/broker.py), so it is consuming again moments after Redis returns.
CELERY_WORKER_CONSUMER = "innovation.broker:Consumer"
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = "notifications"
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ROUTES = {
    "proposals.tasks.deliver_notification": {"queue": "notifications"},
    "proposals.tasks.send_*": {"queue": "notifications"},
    "proposals.tasks.sweep_*": {"queue": "notifications"},
    "proposals.tasks.catch_up": {"queue": "notifications"},
    "proposals.tasks.build_report": {"queue": "reports"},
    "proposals.tasks.*report*": {"queue": "reports"},
    "proposals.tasks.build_open_data": {"queue": "reports"},
    "proposals.tasks.compact_change_log": {"queue": "reports"},
    # A few seconds of aggregates at a million proposals: never ahead of a notification.
    "proposals.tasks.refresh_portfolio": {"queue": "reports"},
    "proposals.tasks.deliver_webhook": {"queue": "webhooks"},
    # Its own queue: the model's work never delays a notification.
    "proposals.tasks.index_similarity": {"queue": "similarity"},
    "proposals.tasks.catch_up_similarity": {"queue": "similarity"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
# innovation/ is not an installed app, so autodiscovery would not find its tasks.
CELERY_IMPORTS = ("innovation.tasks",)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Proves, in the cache, that beat and a worker are both alive.
    "heartbeat": {"task": "innovation.tasks.heartbeat", "schedule": 60.0},
    # Re-enqueue notifications, webhook deliveries and reports the broker or a
    # killed worker lost (SPEC §5); cheap when there is nothing to do.
    "sweep-outbox": {
        "task": "proposals.tasks.sweep_notifications",
        # Short, so that a claim whose heartbeat stopped is re-queued within a minute.
        "schedule": env_int("NOTIFICATION_SWEEP_INTERVAL_SECONDS", 15, minimum=1),
    },
    "daily-digests": {
        "task": "proposals.tasks.send_daily_digests",
        "schedule": crontab(hour=env_int("DIGEST_HOUR", 7, minimum=0), minute=0),
    },
    "experiment-reminders": {
        "task": "proposals.tasks.send_experiment_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "benefit-and-evaluation-reminders": {
        "task": "proposals.tasks.send_benefit_and_evaluation_reminders",
        "schedule": crontab(hour=8, minute=5),
    },
    # The portfolio's snapshots (proposals.portfolio.refresh): every scope at once.
    "refresh-portfolio": {
        "task": "proposals.tasks.refresh_portfolio",
        "schedule": float(PORTFOLIO_REFRESH_SECONDS),
    },
    "weekly-portfolio-summary": {
        "task": "proposals.tasks.send_portfolio_summaries",
        "schedule": crontab(hour=8, minute=30, day_of_week="mon"),
    },
    "expire-reports": {
        "task": "proposals.tasks.expire_reports",
        "schedule": crontab(minute=15),
    },
    # The open dataset of published lessons (/data/lessons.csv), rebuilt every hour.
    "build-open-data": {
        "task": "proposals.tasks.build_open_data",
        "schedule": crontab(minute=20),
    },
    # Similarity vectors that a lost message or a bulk load left behind.
    "catch-up-similarity": {
        "task": "proposals.tasks.catch_up_similarity",
        "schedule": env_int("SIMILARITY_CATCH_UP_SECONDS", 60, minimum=5),
    },
    # The change feed's log: old rows no follower can need, nightly.
    "compact-change-log": {
        "task": "proposals.tasks.compact_change_log",
        "schedule": crontab(hour=3, minute=40),
    },
}
CELERY_WORKER_QUEUES = "notifications,reports,webhooks,similarity"
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

# --- Notifications, reports, webhooks ----------------------------------------------------
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 6, minimum=1)
NOTIFICATION_SWEEP_AFTER_SECONDS = env_int("NOTIFICATION_SWEEP_AFTER_SECONDS", 300, minimum=10)
# A worker stamps its claim (notification, webhook delivery, report) this often
# while it works; a claim not stamped for CLAIM_EXPIRY_SECONDS is a dead worker's,
# released by the next sweep whatever CELERY_TASK_TIME_LIMIT says.
CLAIM_HEARTBEAT_SECONDS = env_int("CLAIM_HEARTBEAT_SECONDS", 10, minimum=1)
CLAIM_EXPIRY_SECONDS = env_int("CLAIM_EXPIRY_SECONDS", 30, minimum=2)
if CLAIM_EXPIRY_SECONDS <= CLAIM_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("CLAIM_EXPIRY_SECONDS must be longer than CLAIM_HEARTBEAT_SECONDS")
# Builds of one report started before it fails (each killed worker is one).
REPORT_MAX_ATTEMPTS = env_int("REPORT_MAX_ATTEMPTS", 3, minimum=1)
# Rows a report build fetches (and holds) at a time: memory against round trips.
REPORT_CHUNK_SIZE = env_int("REPORT_CHUNK_SIZE", 1000, minimum=1)
# Each worker writes, per queue it consumes, a heartbeat in the cache this often;
# /healthz says "worker": "error" when a queue has had none for WORKER_DEAD_AFTER_SECONDS.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
WORKER_DEAD_AFTER_SECONDS = env_int("WORKER_DEAD_AFTER_SECONDS", 120, minimum=2)
REPORT_EXPIRY_DAYS = env_int("REPORT_EXPIRY_DAYS", 7, minimum=1)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
# Seconds to connect, and between bytes of the answer, before a try gives up.
# How long the old secret keeps signing after a rotation: a day for a receiver to
# deploy the new one. Both are sent meanwhile (Standard Webhooks allows several).
WEBHOOK_SECRET_OVERLAP_HOURS = env_float("WEBHOOK_SECRET_OVERLAP_HOURS", 24.0)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
# Certificate authorities trusted for webhook endpoints (a PEM file); certifi's by default.
WEBHOOK_CA_BUNDLE = env_str("WEBHOOK_CA_BUNDLE")

# --- REST API ------------------------------------------------------------------------
API_SETTLING_LAG_SECONDS = env_int("API_SETTLING_LAG_SECONDS", 5, minimum=0)
# The change feed's log keeps this long (each proposal's latest change for ever);
# a cursor must be used within it, less a day (proposals/services/feed.py).
API_CHANGES_RETENTION_DAYS = env_int("API_CHANGES_RETENTION_DAYS", 90, minimum=2)
API_MAX_PAGE_SIZE = 500
API_TOKEN_DEFAULT_DAYS = 90
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "proposals.api.permissions.TokenScopeAllowsMethod",
    ],
    "DEFAULT_PARSER_CLASSES": ["proposals.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "proposals.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "proposals.api.pagination.UpdatedAtCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "proposals.api.schema.ApiSchema",
    "DEFAULT_THROTTLE_CLASSES": ["proposals.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("API_RATE_LIMIT", "600/minute"),
    },
    "EXCEPTION_HANDLER": "proposals.api.exceptions.api_exception_handler",
    # `?format=` would otherwise answer 404 for an unknown value; use `Accept`.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Propose an innovation API",
    "DESCRIPTION": (
        "Proposals, experiments and published outcomes across UK government. "
        "Authenticate with `Authorization: Bearer <key>` or `Authorization: Token <key>` "
        "(the same API token). Every error is JSON: "
        '`{"detail": "…", "errors": {"field": ["…"]}, "code": "…"}`. To keep a copy in '
        "sync, follow the change feed, `/api/v1/changes/`. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    # JavaScript, passed as it is: static/js/api-docs.js sets it (deep linking, and the
    # plugin that makes Swagger UI's markup pass WCAG 2.2 AA).
    "SWAGGER_UI_SETTINGS": "window.appApiDocsSettings",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "proposals.api.schema.fill_descriptions",
        "proposals.api.schema.add_examples",
    ],
    "ENUM_NAME_OVERRIDES": {
        f"{name}Enum": f"proposals.enums.{name}"
        for name in (
            "Status",
            "Visibility",
            "CostBand",
            "Recommendation",
            "DecisionKind",
            "ExperimentStatus",
            "Direction",
            "OutcomeResult",
            "NextStep",
            "ReportKind",
            "ReportFormat",
            "ReportStatus",
            "DeliveryStatus",
            "WebhookEvent",
        )
    },
}

# --- Demo data --------------------------------------------------------------------------
DEMO_PASSWORD = env_str("DEMO_PASSWORD")

# --- Logging: one line per event on stderr, for the platform to collect -------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
