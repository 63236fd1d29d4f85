"""The CCDG project package and its cross-cutting core app (label ``ccdg``)."""

from .celery_app import app as celery_app

__all__ = ["celery_app"]
