"""The home page and the health check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import ProgramFactory, ProgramRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_without_signing_in(client):
    response = client.get(reverse("healthz"))

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-cache" in response["Cache-Control"]


def test_home_lists_only_the_users_programs_with_roles(client):
    user = UserFactory()
    mine = ProgramRoleFactory(user=user, program__name="Mine").program
    ProgramFactory(name="Not mine")
    client.force_login(user)

    response = client.get(reverse("home"))

    assert [p.pk for p in response.context["programs"]] == [mine.pk]
    assert "Not mine" not in response.content.decode()
    assert "Coordinator" in response.content.decode()


def test_home_without_programs_explains_what_happens_next(client):
    client.force_login(UserFactory())

    response = client.get(reverse("home"))

    assert response.context["programs"] == []
    assert "do not take part in any program yet" in response.content.decode()


def test_forbidden_page_uses_the_sites_403_template(client):
    program = ProgramFactory()
    client.force_login(ProgramRoleFactory(program=program, role="report_viewer").user)

    response = client.get(reverse("sessions_app:roster_list", kwargs={"slug": program.slug}))

    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]


# --- Icons -------------------------------------------------------------------------------------


def test_every_page_links_the_apps_icons_and_they_exist(client, db):
    from django.contrib.staticfiles import finders

    html = client.get(reverse("account_login")).content.decode()

    linked = re.findall(
        r'<link rel="(?:icon|apple-touch-icon|manifest)" href="/static/([^"]+)"', html
    )
    assert len(linked) == 4
    assert all(finders.find(path) for path in linked)
    manifest = json.loads(Path(finders.find("icons/site.webmanifest")).read_text())
    assert all(finders.find(f"icons/{icon['src']}") for icon in manifest["icons"])


def test_favicon_ico_leads_to_the_icon(client, db):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert finders.find(response["Location"].removeprefix("/static/"))


def test_the_admin_pages_link_the_icons_too(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert 'rel="apple-touch-icon"' in client.get(reverse("admin:index")).content.decode()
