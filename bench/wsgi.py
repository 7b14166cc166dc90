"""The WSGI application of the load rows: the site as production serves it
(innovation.settings, its middleware), with the bench's trivial JSON view added
to its addresses (bench/urls.py). Only `python -m bench` starts it."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovation.settings")
settings.ROOT_URLCONF = "bench.urls"
application = get_wsgi_application()
