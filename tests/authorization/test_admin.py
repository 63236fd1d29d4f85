"""Every page of the admin, for everyone: the admin is for site staff only.

Every URL pattern of the admin site is enumerated (its own views, the app indexes and every
registered model's changelist, add, change, delete and history pages, and whatever a model
admin adds), filled with a real object of the model, and tried with GET and POST by every
actor:

* an anonymous visitor is sent to sign in: to the admin's sign-in page from the admin's own
  views, to the site's from a model's pages (the site's sign-in requirement comes first);
* a signed-in user who is not staff (whatever their program roles) is sent to the admin's
  sign-in page, never shown a page (signing out of the admin sends them to its index, which
  sends them to sign in);
* the admin's sign-in page itself is public (200);
* staff get the page (200), or the method's 405, or the redirect the view makes; a 403 only
  where the admin is read-only on purpose (``STAFF_REFUSED``);
* nothing changes: every POST here has an empty body, which no admin page acts on (a delete
  needs its confirmation field, a form its fields).

A new admin pattern fails ``test_every_admin_url_pattern_has_an_expectation`` until
``ADMIN_VIEWS`` says what staff get from it (one line).
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver

from .harness import ADMIN_HOME, ADMIN_LOGIN, LOGIN, Checks
from .world import ACTORS

# What staff get, per kind of admin page: (GET, POST with an empty body).
ADMIN_VIEWS: dict[str, tuple[object, object]] = {
    # The admin's own views.
    "index": (200, 200),
    "login": (302, 302),  # to the site's sign-in page, for everyone (see expected_for)
    "logout": (405, 302),  # signing out is a POST; then the site's sign-in page
    "password_change": (200, 200),
    "password_change_done": (200, 405),
    "autocomplete": (200, 405),
    "jsi18n": (200, 405),
    "view_on_site": (302, 302),  # to the object's own page
    "app_list": (200, 200),
    "catch_all": (404, 404),
    # Every model's pages.
    "changelist": (200, 200),
    "add": (200, 200),
    "change": (200, 200),
    "delete": (200, 200),  # the confirmation page: an empty POST does not confirm
    "history": (200, 200),
    "object": (302, 302),  # <id>/ leads to the change page
    "password": (200, 200),  # a user's password form
}

# Admin pages that refuse staff on purpose (403), by model: the append-only audit trail and
# lockout records, case notes and confidentiality agreements are read-only; a clinician is
# deactivated, never deleted; invitations and roster imports are made by the app itself.
READ_ONLY = {("add", "GET"), ("add", "POST"), ("change", "POST"), ("delete", "GET"),
             ("delete", "POST")}  # fmt: skip
NO_ADD = {("add", "GET"), ("add", "POST")}
STAFF_REFUSED: dict[str, set[tuple[str, str]]] = {
    "ccdg.auditevent": READ_ONLY,
    "sessions_app.casenote": READ_ONLY,
    "sessions_app.confidentialityagreement": READ_ONLY,
    "sessions_app.clinician": {("delete", "GET"), ("delete", "POST")},
    "sessions_app.invitation": NO_ADD,
    "sessions_app.rosterimport": NO_ADD,
    "axes.accessattempt": NO_ADD,
    "axes.accesslog": NO_ADD,
    "axes.accessfailurelog": NO_ADD,
}

# Change forms with nothing left to fill (every field read-only or optional): an empty POST is a
# valid form that saves nothing new and goes back to the changelist.
NOTHING_TO_FILL = {
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "sessions_app.invitation",
    "sessions_app.rosterimport",
}

_MODEL_VIEW = re.compile(r"^(?P<model>\w+?)_(?P<kind>changelist|add|change|delete|history)$")


def admin_patterns() -> list[tuple[str, str, object]]:
    """(kind, pattern, model or None) for every URL pattern of the admin site."""
    models = {f"{m._meta.app_label}/{m._meta.model_name}/": m for m in admin.site._registry}
    found = []
    for entry in admin.site.get_urls():
        if isinstance(entry, URLResolver):  # a model's pages
            model = models[str(entry.pattern)]
            for inner in entry.url_patterns:
                route = str(entry.pattern) + str(inner.pattern)
                if inner.name is None:
                    found.append(("object", route, model))
                elif (match := _MODEL_VIEW.match(inner.name)) is not None:
                    found.append((match["kind"], route, model))
                elif inner.name.endswith("_password_change"):
                    found.append(("password", route, model))
                else:
                    found.append((inner.name, route, model))
        elif isinstance(entry, URLPattern):
            found.append((entry.name or "catch_all", str(entry.pattern), None))
    return found


def test_every_admin_url_pattern_has_an_expectation():
    unknown = sorted({kind for kind, _, _ in admin_patterns()} - set(ADMIN_VIEWS))
    assert unknown == [], f"say what staff get from these admin pages in ADMIN_VIEWS: {unknown}"
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert set(STAFF_REFUSED) | NOTHING_TO_FILL <= registered


def _addresses(kind: str, route: str, model, world) -> list[str]:
    """The addresses of one pattern, with real ids (each app's index for ``app_list``)."""
    if kind == "app_list":
        labels = sorted({m._meta.app_label for m in admin.site._registry})
        return [f"/admin/{label}/" for label in labels]
    if kind == "catch_all":
        return ["/admin/no-such-page/"]
    if kind == "autocomplete":
        return ["/admin/autocomplete/?app_label=sessions_app&model_name=programrole"
                "&field_name=user&term=co"]  # fmt: skip
    if kind == "view_on_site":
        clinician = world.alpha.clinician
        content_type = ContentType.objects.get_for_model(clinician)
        return [f"/admin/r/{content_type.pk}/{clinician.pk}/"]
    path = "/admin/" + route
    if model is not None and ("<path:object_id>" in path or "<id>" in path):
        row = model._default_manager.order_by("pk").first()
        assert row is not None, f"the world holds no {model._meta.label} to try the admin with"
        path = path.replace("<path:object_id>", str(row.pk)).replace("<id>", str(row.pk))
    return [path]


def expected_for(kind: str, model, actor: str, method: str) -> object:
    if kind == "login":
        # The admin signs in through the site's sign-in page (limits, second factor, SSO).
        return 302
    if actor == "anonymous":
        # The admin's own views send to the admin's sign-in page, a model's pages to the site's.
        return ADMIN_LOGIN if model is None else LOGIN
    if actor != "staff":
        return ADMIN_HOME if kind == "logout" else ADMIN_LOGIN
    label = model._meta.label_lower if model is not None else ""
    if (kind, method) in STAFF_REFUSED.get(label, ()):
        return 403
    if (kind, method) == ("change", "POST") and label in NOTHING_TO_FILL:
        return 302
    return ADMIN_VIEWS[kind][method == "POST"]


def _ids(patterns) -> list[str]:
    return [f"{kind} {route}" for kind, route, _ in patterns]


@pytest.mark.parametrize(("kind", "route", "model"), admin_patterns(), ids=_ids(admin_patterns()))
def test_admin_page_is_for_staff_only(kind, route, model, world, db, authorization_counts):
    checks = Checks(world, authorization_counts, "admin")
    for path in _addresses(kind, route, model, world):
        for actor in ACTORS:
            for method in ("GET", "POST"):
                checks.expect(actor, method, path, expected_for(kind, model, actor, method))
    checks.assert_none()
