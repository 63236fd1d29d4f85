"""Every URL of the project, GET and POST, against every kind of actor (the rules are in
``expectations.py``), plus the rules that one row per URL cannot say."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.urls import include, path, reverse

from .expectations import EXPECTATIONS, SIGNED_IN
from .harness import Checks, Expect
from .urls import project_urls
from .world import ACTORS


def coverage_problems(names, expectations: dict) -> list[str]:
    """What the table lacks for the URL patterns ``names``: an entry, a GET or a POST row, an
    actor in a row; and the entries of patterns that are gone."""
    problems = [f"add an expectation for {name}" for name in sorted(set(names) - set(expectations))]
    for name, expect in sorted(expectations.items()):
        for method, found in (("GET", expect.get), ("POST", expect.post)):
            if found is None:
                problems.append(f"add a {method} expectation for {name}")
            elif set(found) != set(ACTORS):
                problems.append(f"the {method} expectation of {name} must name every actor")
    stale = sorted(set(expectations) - set(names))
    problems += [f"{name} is no longer a URL pattern: remove its expectation" for name in stale]
    return problems


def test_every_url_pattern_has_an_expectation():
    names, unnamed = project_urls()
    assert unnamed == [], f"give these URL patterns a name: {unnamed}"
    assert coverage_problems(names, EXPECTATIONS) == []


def test_an_entry_without_a_get_or_a_post_row_is_reported():
    rows = {"home": Expect(get=SIGNED_IN), "healthz": Expect(post={"anonymous": 200})}

    assert coverage_problems({"home", "healthz"}, rows) == [
        "add a GET expectation for healthz",
        "the POST expectation of healthz must name every actor",
        "add a POST expectation for home",
    ]


def _new_view(request):
    return HttpResponse()


# The project's URLs plus two new ones: the enumeration must notice both.
urlpatterns = [
    path("", include("ccdg.urls")),
    path("brand-new/", _new_view, name="brand_new"),
    path("programs/<slug:slug>/brand-new/", _new_view),
]


@pytest.mark.urls(__name__)
def test_the_enumeration_notices_a_new_url_pattern():
    names, unnamed = project_urls()

    assert "brand_new" in set(names) - set(EXPECTATIONS)
    assert unnamed == ["programs/<slug:slug>/brand-new/"]


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_every_actor_gets_what_the_table_says_for_get_and_post(
    name, world, db, authorization_counts
):
    expect = EXPECTATIONS[name]
    side = world.alpha
    path = reverse(name, kwargs=expect.kwargs(side))
    via = expect.via(side) if expect.via else None
    checks = Checks(world, authorization_counts, "matrix")
    for actor in ACTORS:
        user = world.users[actor]
        checks.expect(actor, "GET", path, expect.get[actor], via=via)
        checks.expect(
            actor,
            "POST",
            path,
            expect.post[actor],
            acts=expect.acts,
            data=lambda user=user: expect.data(side, user),
            setups=(lambda: expect.setup(side),) if expect.setup else (),
            done=(lambda: expect.done(side)) if expect.done else None,
            via=via,
        )
    checks.assert_none()
