"""The app on a 390-pixel phone (an iPhone 12-14's width), in a real Chromium: the program's
sections open as menus, and wide tables stack their rows instead of pushing columns off the
screen (the Sessions "Presenter" column and Table 2's "p" were out of sight before)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse
from playwright.sync_api import expect

from analysis.runs.services import run_create, run_execute
from sessions_app.models import Program
from surveys.models import Wave
from tests.browser.conftest import program_page

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(transactional_db, settings):
    settings.DEBUG = True  # the demo's published password
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    return Program.objects.get()


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("coordinator")
    page.get_by_label("Password").fill("ccdg-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def on_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_the_sessions_table_and_table_2_fit_a_phone(new_page, screenshot, demo):
    # The demo's wave with the most answers.
    wave = Wave.objects.filter(program=demo).annotate(n=Count("responses")).order_by("-n")[0]
    admin = get_user_model().objects.get(username="coordinator")
    run = run_execute(run_create(wave=wave, actor=admin).pk)
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page)
    page.goto(demo.get_absolute_url())

    program_page(page, "Plan", "Sessions")
    expect(page).to_have_title(f"Sessions · {demo.name} · CCDG")
    presenter = page.locator("#session-table td[data-label='Presenter']").first
    expect(presenter).to_be_visible()
    assert on_screen(presenter)
    screenshot(page, "sessions-on-a-phone")

    page.goto(reverse("analysis:run_detail", args=[demo.slug, wave.slug, run.pk]))
    p_value = page.locator("#table2 td[data-label='p']").first
    expect(p_value).to_be_visible()
    assert on_screen(p_value)
    screenshot(page, "table-2-on-a-phone")
    # The page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Every other wide table stacks too: the roster shows its e-mail column (hidden on a
    # phone before) as a line of each person's card.
    program_page(page, "Plan", "Roster")
    email = page.locator("#roster-table td[data-label='Email']").first
    expect(email).to_be_visible()
    assert on_screen(email)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "roster-on-a-phone")
