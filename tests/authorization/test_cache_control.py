"""No personal data in caches: every page and every file the app makes is sent with
``Cache-Control: private, no-store``, so neither a shared proxy nor the browser's disk cache
keeps a copy (docs/operations.md, "Security settings at a glance"). Static files stay cacheable.

Every URL pattern of the project is requested, with the URLs and the world of the
authorization matrix (this package), so a new page is covered as soon as the matrix knows how to
open it.
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from analysis.exports import services as exports
from tests.factories import ClinicianFactory

from .expectations import EXPECTATIONS


def directives(response) -> set[str]:
    header = response.get("Cache-Control", "")
    return {part.split("=")[0].strip().lower() for part in header.split(",") if part.strip()}


def not_kept(response) -> bool:
    found = directives(response)
    return {"private", "no-store"} <= found and "public" not in found


@pytest.mark.parametrize("actor", ["coordinator", "staff", "anonymous"])
def test_every_page_is_sent_private_and_not_stored(world, db, actor):
    side = world.alpha
    checked, kept = 0, []
    for name, expect in sorted(EXPECTATIONS.items()):
        client = world.client(actor)
        if expect.via:
            client.get(expect.via(side))
        path = reverse(name, kwargs=expect.kwargs(side))
        response = client.get(path)
        checked += 1
        if not not_kept(response):
            kept.append(f"{name} {path} ({response.status_code}): {response.get('Cache-Control')}")

    assert kept == [], f"{len(kept)} of {checked} responses may be cached:\n" + "\n".join(kept)
    assert checked == len(EXPECTATIONS)


def test_a_form_post_and_its_error_page_are_not_stored(world, db):
    client = world.client("coordinator")
    side = world.alpha
    ids = {"slug": side.slug, "pk": side.clinician.pk}
    edit = reverse("sessions_app:clinician_edit", kwargs=ids)
    deactivate = reverse("sessions_app:clinician_deactivate", kwargs=ids)

    refused = client.post(edit, {"email": "not an address"})
    done = client.post(deactivate)

    assert (refused.status_code, not_kept(refused)) == (200, True)
    assert (done.status_code, not_kept(done)) == (302, True)


def _kind_params(kind, side) -> dict:
    params = {"format": kind.formats[0]} if kind.formats else {}
    if kind.group in ("Survey", "Analysis"):
        params["wave"] = side.wave.slug
    if kind.key.endswith("certificate"):
        params["clinician"] = side.participant_clinician.pk
    if kind.group == "Series":
        params["series"] = side.series.slug
    return params


def _linked_respondents(side) -> None:
    """At least k respondents linked by personal code across the side's series, so that its
    paired data set can be made."""
    from surveys import linking
    from surveys.series import members_of
    from tests.factories import ResponseFactory

    for i in range(side.program.small_cell_k):
        hashed = linking.link_hash(side.program.pk, f"{'ABCDEFGHIJ'[i]}01A")
        for member in members_of(side.series):
            ResponseFactory(wave=member.wave, answers={"skill_empathy": "4"}, link_hash=hashed)


def test_every_export_download_is_private_and_not_stored(world, db):
    side = world.alpha
    client = world.client("coordinator")
    ClinicianFactory(program=side.program)
    _linked_respondents(side)
    slug = side.slug
    downloads = {
        "roster page": reverse("sessions_app:roster_export", kwargs={"slug": slug}),
        "credit page": reverse("sessions_app:credit_export", kwargs={"slug": slug}),
    }
    kinds = exports.kinds_for(world.users["coordinator"], side.program)
    for kind in kinds:
        params = _kind_params(kind, side)
        if kind.background:
            job_page = client.post(
                reverse("reports:request", kwargs={"slug": slug, "key": kind.key}), params
            )
            assert job_page.status_code == 302, kind.key
            job_id = int(job_page["Location"].rstrip("/").rsplit("/", 1)[1])
            exports.export_run(job_id)  # the worker's part (done already when tasks run eagerly)
            downloads[kind.key] = reverse(
                "reports:job_download", kwargs={"slug": slug, "pk": job_id}
            )
        else:
            query = "&".join(f"{k}={v}" for k, v in params.items())
            downloads[kind.key] = (
                reverse("reports:download_now", kwargs={"slug": slug, "key": kind.key})
                + f"?{query}"
            )

    sent = {what: client.get(path) for what, path in downloads.items()}

    attachments = {
        what: r.status_code
        for what, r in sent.items()
        if r.get("Content-Disposition", "").startswith("attachment")
    }
    assert attachments == {what: 200 for what in downloads}
    assert [what for what, r in sent.items() if not not_kept(r)] == []
    assert len(kinds) >= 10


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_stay_cacheable(db):
    response = Client().get("/static/css/ccdg.css")

    assert response.status_code == 200
    assert "no-store" not in directives(response)
    assert "max-age" in directives(response)
