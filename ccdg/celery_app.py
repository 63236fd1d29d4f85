"""The Celery application. Configuration comes from Django settings (``CELERY_*``)."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")

app = Celery("ccdg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _warm_up(**_kwargs: Any) -> None:
    """Each worker process (prefork child or solo) loads what its first message needs before
    it takes a task: see ``ccdg.outbox.rendering.rendering_warm_up``."""
    from ccdg.outbox.rendering import rendering_warm_up

    rendering_warm_up()


worker_process_init.connect(_warm_up, weak=False)
