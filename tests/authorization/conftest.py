"""The world of the authorization matrix, built once for the whole package.

It lives in a transaction opened before the first test of the package and rolled back after
the last; each test's own changes are rolled back after it (the ``db`` fixture), and each
request inside a test after itself (``harness.send``).
"""

from __future__ import annotations

import pytest
from django.db import transaction

from .world import World, build_world


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker) -> World:
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        yield built
        transaction.set_rollback(True)
