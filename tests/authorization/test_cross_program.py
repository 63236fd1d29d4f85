"""Another program's objects under the user's own program: what an attacker tries first.

For every URL addressed by a program's slug and an object (``pk``, ``wave``), the ids of beta's
objects are put under alpha's slug (each object id alone, and all of them; and an object of one
of alpha's waves under another of its waves), and every actor tries GET and POST:

* anonymous visitors are sent to sign in, and a method the view does not take is 405, as on
  alpha's own objects (neither looks at the object);
* everyone else gets 404, the answer for an id that exists nowhere: coordinators and staff
  too, who may see beta's object under beta's slug, never under alpha's. A 403 is accepted
  only from an actor refused (403) on alpha's own object too, and only when the same request
  with an id that exists nowhere is refused with 403 as well: the role is refused before any
  lookup, which says nothing about the object;
* never a 200 or a 500, and nothing changes.

POST bodies name objects too (a facilitator, a room, a reviewer): those who may post to alpha's
page post beta's ids in the body. Whatever they get, no row of beta changes and no row changed
by the request points to beta's rows.
"""

from __future__ import annotations

from itertools import combinations

import pytest
from django.test import Client
from django.urls import reverse

from .expectations import EXPECTATIONS
from .harness import LOGIN, Checks, foreign, got, matches, refused, send
from .urls import OBJECT_PARAMS, program_object_urls, project_urls
from .world import ACTORS, GLOBAL_MODELS, project_tables

# A person's own passkeys (django-allauth): not a program's object but the signed-in person's;
# another person's is not found (test below).
OWN_OBJECT_URLS = {"mfa_edit_webauthn", "mfa_remove_webauthn"}

# Ids that exist nowhere: what a foreign id must be indistinguishable from.
GHOST = {"pk": 2_000_000_000, "wave": "no-such-wave", "series": "no-such-series"}


def test_the_other_program_holds_objects_of_every_kind(world):
    missing = sorted(
        model._meta.label
        for table, model in project_tables().items()
        if model._meta.label not in GLOBAL_MODELS and not world.beta_rows.get(table)
    )
    assert missing == []


def test_every_url_naming_an_object_is_under_a_programs_slug():
    """So that the test below tries them all: an object id without the program's slug would
    need a rule of its own."""
    names, _ = project_urls()
    assert (
        sorted(
            n
            for n, params in names.items()
            if params.intersection(OBJECT_PARAMS)
            and "slug" not in params
            and n not in OWN_OBJECT_URLS
        )
        == []
    )


@pytest.mark.parametrize("name", sorted(OWN_OBJECT_URLS))
def test_another_persons_passkey_is_not_found(name, world, db):
    """Even having confirmed their password a moment ago (so that it is not asked again), a person
    cannot rename or remove someone else's passkey: 404, and the passkey stays."""
    from allauth.mfa.models import Authenticator

    from tests.factories import PASSWORD

    theirs = Authenticator.objects.create(
        user=world.users["coordinator"], type=Authenticator.Type.WEBAUTHN,
        data={"name": "Coordinator's key", "credential": {}},
    )  # fmt: skip
    client = Client()
    signed_in = client.post(
        reverse("account_login"), {"login": "participant", "password": PASSWORD}
    )
    confirmed = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert (signed_in.status_code, confirmed.status_code) == (302, 302)
    for method in (client.get, client.post):
        response = method(reverse(name, kwargs={"pk": theirs.pk}), {"name": "Mine now"})
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.data["name"] == "Coordinator's key"


def _variants(expect, world) -> list[tuple[str, dict, dict]]:
    """(what is tried, the URL's arguments, the same with ids that exist nowhere): beta's ids
    under alpha's slug, for each non-empty set of object parameters taken from beta; and an
    object of alpha's wave under another wave of alpha."""
    own, theirs = expect.kwargs(world.alpha), expect.kwargs(world.beta)
    params = [p for p in OBJECT_PARAMS if p in own]
    found = []
    for n in range(1, len(params) + 1):
        for taken in combinations(params, n):
            if any(own[p] == theirs[p] for p in taken):
                continue  # an object of no program (a built-in agenda): not another program's
            found.append(
                (
                    "another program's " + " and ".join(taken),
                    {**own, **{p: theirs[p] for p in taken}},
                    {**own, **{p: GHOST[p] for p in taken}},
                )
            )
    if {"wave", "pk"} <= set(params):
        other_wave = {**own, "wave": world.alpha.paper_wave.slug}
        found.append(("another wave's pk", other_wave, {**own, "wave": GHOST["wave"]}))
    return found


def _body(data: dict) -> dict:
    """The plain values of a POST body (files compare by identity; no body here names an
    object in a file)."""
    return {k: v for k, v in data.items() if isinstance(v, (str, int))}


@pytest.mark.parametrize("name", program_object_urls())
def test_another_programs_objects_are_not_found_under_the_own_programs_slug(
    name, world, db, authorization_counts
):
    expect = EXPECTATIONS[name]
    checks = Checks(world, authorization_counts, "cross-program")
    setups = (lambda: expect.setup(world.alpha), lambda: expect.setup(world.beta))
    setups = setups if expect.setup else ()
    variants = _variants(expect, world)
    assert variants, f"{name}: no object of the other program to try"
    # The visitor's own link, opened first: theirs is alpha's.
    via = expect.via(world.alpha) if expect.via else None
    for tried, kwargs, ghost_kwargs in variants:
        path = reverse(name, kwargs=kwargs)
        ghost = reverse(name, kwargs=ghost_kwargs)
        for actor in ACTORS:
            user = world.users[actor]
            for method, own in (("GET", expect.get[actor]), ("POST", expect.post[actor])):
                checks.count()
                label = f"{method} {path} as {actor} ({tried})"
                result = send(
                    world, actor, method, path,
                    data=lambda user=user: expect.data(world.beta, user), setups=setups, via=via,
                )  # fmt: skip
                if result.response is None:
                    checks.fail(label, f"expected 404, got {result.error}")
                    continue
                response = result.response
                if own == LOGIN or own == 405:
                    expected = own  # decided before any lookup
                else:
                    expected = 404
                if not matches(response, path, expected):
                    ghosted = None
                    if response.status_code == 403 and own == 403:
                        ghosted = send(world, actor, method, ghost, setups=setups, via=via)
                        ghosted = ghosted.response
                    if ghosted is None or ghosted.status_code != 403:
                        checks.fail(label, f"expected {expected}, got {got(response)}")
                if result.changed:
                    changed = ", ".join(str(c) for c in result.changed)
                    checks.fail(label, f"answered {got(response)} but changed {changed}")
    checks.assert_none()


def _smuggled_bodies(own: dict, theirs: dict) -> list[tuple[str, dict]]:
    """POST bodies for alpha's page that name beta's objects: all of beta's body; alpha's with
    one field of beta's (the rest stays valid); alpha's with the fields only beta's has."""
    plain_own, plain_theirs = _body(own), _body(theirs)
    if plain_own == plain_theirs:
        return []
    found = [("another program's body", theirs)]
    for key in sorted(plain_own.keys() & plain_theirs.keys()):
        if plain_own[key] != plain_theirs[key]:
            found.append((f"another program's {key}", {**own, key: theirs[key]}))
    extra = plain_theirs.keys() - plain_own.keys()
    if extra:
        found.append(("another program's fields", {**own, **{k: theirs[k] for k in extra}}))
    return found


# Posts that may name another program's row because the row is site-wide: site staff give a
# program role to any account (accounts belong to the site, not to a program). A coordinator
# posting the same body is still checked: they find only their own program's people.
SITE_WIDE_POSTS = {("sessions_app:program_team", "staff")}


def test_another_programs_ids_in_a_post_body_change_nothing_of_it(world, db, authorization_counts):
    checks = Checks(world, authorization_counts, "cross-program")
    names, _ = project_urls()
    for name in sorted(n for n, params in names.items() if "slug" in params and n in EXPECTATIONS):
        expect = EXPECTATIONS[name]
        path = reverse(name, kwargs=expect.kwargs(world.alpha))
        via = expect.via(world.alpha) if expect.via else None
        setups = (lambda expect=expect: expect.setup(world.alpha),) if expect.setup else ()
        for actor in ACTORS:
            user = world.users[actor]
            if refused(expect.post[actor]) or (name, actor) in SITE_WIDE_POSTS:
                continue
            own, theirs = expect.data(world.alpha, user), expect.data(world.beta, user)
            for tried, body in _smuggled_bodies(own, theirs):
                checks.count()
                label = f"POST {path} as {actor} with {tried}"
                result = send(
                    world, actor, "POST", path, setups=setups, data=lambda body=body: body, via=via
                )
                if result.response is None:
                    checks.fail(label, f"got {result.error}")
                    continue
                for change in result.changed:
                    for problem in foreign(change, world):
                        checks.fail(label, f"answered {got(result.response)}; {problem}")
    checks.assert_none()


# Who may make exports, and the parameters that name a program's objects.
EXPORTERS_OF_ALPHA = ("coordinator", "report_viewer", "staff")


def _export_params(side) -> dict:
    return {
        "wave": side.wave.slug,
        "clinician": side.participant_clinician.pk,
        "run": side.analysis_run.pk,
    }


def _exports_made(since: int) -> list[dict]:
    """The parameters of the exports made or requested since audit event ``since``."""
    from ccdg.models import AuditEvent

    return [
        data.get("params") or {}
        for data in AuditEvent.objects.filter(
            pk__gt=since, action__in=("export.download", "export.request")
        ).values_list("data", flat=True)
    ]


def _export_kinds() -> list[str]:
    from analysis.exports import services as exports

    exports._load_builders()
    return sorted(exports.REGISTRY)


def _send_export(world, actor: str, method: str, key: str, params: dict, since: int):
    kwargs = {"slug": world.alpha.slug, "key": key}
    if method == "GET":
        query = "&".join(f"{k}={v}" for k, v in params.items())
        path = reverse("reports:download_now", kwargs=kwargs) + "?" + query
        return path, send(world, actor, "GET", path, after=lambda response: _exports_made(since))
    path = reverse("reports:request", kwargs=kwargs)
    return path, send(
        world, actor, "POST", path, data=lambda: params, after=lambda response: _exports_made(since)
    )


def test_another_programs_ids_in_export_parameters_are_never_used(world, db, authorization_counts):
    from ccdg.models import AuditEvent

    checks = Checks(world, authorization_counts, "cross-program")
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    theirs = _export_params(world.beta)
    for key in _export_kinds():
        for actor in EXPORTERS_OF_ALPHA:
            for method in ("GET", "POST"):
                checks.count()
                path, result = _send_export(world, actor, method, key, theirs, since)
                label = f"{method} {path} as {actor}"
                if result.response is None:
                    checks.fail(label, f"got {result.error}")
                    continue
                for made in result.after:
                    named = {k: v for k, v in made.items() if str(theirs.get(k)) == str(v)}
                    if named:
                        checks.fail(label, f"made an export of the other program's {named}")
    checks.assert_none()


def test_an_export_of_the_own_programs_objects_names_them(world, db):
    """The control of the test above: the parameters it looks for are where it looks."""
    from ccdg.models import AuditEvent

    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    own = _export_params(world.alpha)

    _, result = _send_export(world, "coordinator", "POST", "analysis_workbook", own, since)

    assert result.after == [{"wave": own["wave"], "run": own["run"]}]
