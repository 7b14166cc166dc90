"""The Celery application: configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

from innovation.heartbeats import WorkerHeartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovation.settings")

app = Celery("innovation")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each worker stamps a heartbeat per queue (read by /healthz) and asks for a
# catch-up of the outbox whenever it (re)connects to the broker.
app.steps["consumer"].add(WorkerHeartbeat)
