"""Integration tests against real services: a Celery worker process on a real Redis."""
