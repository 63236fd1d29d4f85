"""A screenshot tour: each demo role's main pages, in a real Chromium.

In the test suite the pictures go to ``artifacts/tour/``; ``make screenshots`` runs this file
with ``CCDG_TOUR_DIR=docs/screenshots`` to refresh the ones the README shows. Each page must
answer 200 and show its heading, and each role's home what it is for (the coordinator's what
needs attention and the attendance chart, the facilitator's next session and live view, the
participant's answer buttons and credit): the tour is also a browser test of the homes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sessions_app.models import Program, Session

from .conftest import REPO_ROOT

TOUR = Path(os.environ.get("CCDG_TOUR_DIR") or REPO_ROOT / "artifacts" / "tour")
if not TOUR.is_absolute():
    TOUR = REPO_ROOT / TOUR


@pytest.fixture
def demo(transactional_db, settings):
    settings.DEBUG = True  # the demo's published password
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    return Program.objects.get()


# What each role's home must show (the page's own words).
HOME_SHOWS = {
    "coordinator": ["Needs attention", "Next sessions", "Program health this year"],
    "facilitator": ["Your next session as facilitator", "Open the live view", "Your groups"],
    "participant": ["Your next session", "Going", "Cannot make it", "continuing-education"],
    "reports": ["Reports and exports"],
}


def pages(program: Program) -> dict[str, list[tuple[str, str]]]:
    """Role -> (picture name, address) in the order of the tour."""
    slug = program.slug
    session = Session.objects.filter(group__program=program).order_by("starts_at").last()
    return {
        "coordinator": [
            ("coordinator-home", "/"),
            ("coordinator-sessions", f"/programs/{slug}/sessions/"),
            ("coordinator-groups", f"/programs/{slug}/groups/"),
            ("coordinator-team", f"/programs/{slug}/team/"),
        ],
        "facilitator": [
            ("facilitator-home", "/"),
            ("facilitator-live-view", f"/programs/{slug}/sessions/{session.pk}/live/"),
        ],
        "participant": [
            ("participant-home", "/"),
            ("participant-my-sessions", f"/programs/{slug}/my-sessions/"),
        ],
        "reports": [("report-viewer-reports", f"/programs/{slug}/reports/")],
    }


def test_the_tour_of_each_roles_main_pages(new_page, demo):
    TOUR.mkdir(parents=True, exist_ok=True)
    taken = []
    for role, stops in pages(demo).items():
        page = new_page(viewport={"width": 1280, "height": 860})
        page.goto("/accounts/login/")
        page.get_by_label("Username or email").fill(role)
        page.get_by_label("Password").fill("ccdg-demo")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
        for name, path in stops:
            response = page.goto(path)
            assert response is not None and response.status == 200, (role, path)
            expect(page.get_by_role("heading", level=1).first).to_be_visible()
            if path == "/":
                for words in HOME_SHOWS[role]:
                    expect(page.get_by_role("main")).to_contain_text(words)
                if role == "coordinator":
                    expect(page.locator("#attendance-chart svg rect").first).to_be_visible()
            target = TOUR / f"{name}.png"
            page.screenshot(path=str(target))
            taken.append(target)
    assert all(p.stat().st_size > 10_000 for p in taken)
