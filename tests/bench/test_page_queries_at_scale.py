"""Every key page of the page benchmark (bench/pages.py) costs the same number of queries with
the demo as with ten times the demo (bench/make_scale_data.py at a tenth of its full scale):
what a page costs grows with what it shows, never with what the program holds."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from analysis.runs import services as runs
from bench.make_scale_data import build
from bench.pages import key_pages
from surveys.models import Wave

pytestmark = pytest.mark.django_db

#: Where the shape of the data, not its size, changes a page's queries: the outbox previews
#: its first planned messages, and each kind of message among them loads its own lookups
#: (the demo plans fewer kinds in its next days than a program of thirty groups).
SHAPE = {"outbox": 4}


def page_queries(client) -> dict[str, int]:
    users = get_user_model().objects
    counts = {}
    for name, who, path in key_pages():
        client.force_login(users.get(username=who))
        client.get(path)  # the first view of a page may fill caches
        with CaptureQueriesContext(connection) as queries:
            page = client.get(path)
        assert page.status_code == 200, (name, path, page.status_code)
        counts[name] = len(queries)
    return counts


def test_key_pages_cost_the_same_queries_with_the_demo_and_ten_times_the_demo(client):
    with transaction.atomic():
        call_command("seed_demo", force=True, verbosity=0)
        analysed = Wave.objects.filter(responses__isnull=False, is_pilot=False).first()
        runs.run_execute(runs.run_create(wave=analysed, actor=None).pk)
        demo = page_queries(client)
        transaction.set_rollback(True)

    build(scale=0.1)
    ten_times = page_queries(client)

    assert set(ten_times) == set(demo)
    grown = {
        name: (demo[name], n)
        for name, n in ten_times.items()
        if n > demo[name] + SHAPE.get(name, 0)
    }
    assert grown == {}, grown
