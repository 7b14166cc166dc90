# syntax=docker/dockerfile:1
# Propose an innovation: one image for the web server, the Celery worker and beat.
# Build: docker build -t propose-an-innovation .   Run: see docker-compose.yml.

# --- 1. Front-end assets: GOV.UK Frontend from npm, copied into static/govuk/ -----------
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/build-assets.mjs scripts/
RUN npm run build:assets

# --- 2. Wheels for exactly the pinned dependencies (no compilers in the final image) ----
FROM python:3.11-slim-bookworm AS wheels
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
# pyproject.toml names the direct dependencies; constraints.txt pins all of them.
COPY pyproject.toml constraints.txt README.md ./
RUN pip wheel --wheel-dir /wheels -c constraints.txt .

# --- 3. The runtime: slim, non-root, static files collected at build time --------------
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    WEB_CONCURRENCY=3

RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home app

COPY --from=wheels /wheels /wheels
RUN pip install --no-index --find-links=/wheels /wheels/*.whl && rm -rf /wheels

WORKDIR /app
# The code stays owned by root: the app user can read it, not change it.
COPY . .
COPY --from=assets /build/static/govuk static/govuk

# collectstatic needs the settings, and production settings need a SECRET_KEY:
# a throwaway one for this step only (it is not kept in the image's environment).
# Importing the settings creates VAR_DIR's folders; they are made afresh, owned by
# the app user, for uploads and reports (mount a volume on /app/var/media).
RUN SECRET_KEY=collectstatic-only-not-used-at-run-time python manage.py collectstatic --noinput \
    && rm -rf /app/var && mkdir -p /app/var/media && chown -R app:app /app/var

USER app
EXPOSE 8000

# /healthz answers 200 when the database and the broker are reachable. The probe
# sends the first ALLOWED_HOSTS name as Host (Django refuses hosts it does not serve).
# Worker and beat containers have no web server: disable this there (compose does).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "scripts/healthcheck.py"]

# Workers: WEB_CONCURRENCY (gunicorn reads it; 2-4 per CPU core is usual).
# Recycling workers now and then bounds any slow memory growth. The control socket
# (gunicorn 27) is unused and would need a writable home directory.
CMD ["gunicorn", "innovation.wsgi", "--bind", "0.0.0.0:8000", \
     "--max-requests", "1000", "--max-requests-jitter", "100", \
     "--timeout", "60", "--graceful-timeout", "30", "--access-logfile", "-", \
     "--no-control-socket"]
