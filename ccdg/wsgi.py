"""WSGI entry point (gunicorn ccdg.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")
application = get_wsgi_application()
