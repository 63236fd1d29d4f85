"""Every page each demo role can reach, in a real Chromium: no Content-Security-Policy
violation (the app allows no inline style or script) and no serious or critical WCAG 2.2 AA
violation found by axe-core (axe-playwright-python's bundled copy).

The walk starts at the home page, signed in as the demo's coordinator, facilitator,
participant, report viewer and staff account, and follows the app's own links (breadth first,
one page per URL pattern, so every kind of page the role can reach is checked rather than
twenty sessions; downloads, sign-out and the Django admin are left out: the admin is
Django's). ``MAX_PAGES`` bounds the walk.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urldefrag, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import Resolver404, resolve
from playwright.sync_api import expect

ROLES = ("coordinator", "facilitator", "participant", "reports", "admin")
MAX_PAGES = 120
# Links not followed: leaving, downloads, and Django's admin.
SKIP = re.compile(
    r"^/(?:admin/|accounts/logout|static/|media/|favicon)"
    r"|/(?:export|download|calendar)[^/]*/?"
    r"|\.(?:csv|xlsx|pdf|ics|zip|json|r|R)$"
)
# WCAG 2.2 A and AA rules (axe's tags), as the issue asks.
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SERIOUS = {"serious", "critical"}


@pytest.fixture
def demo(transactional_db, settings):
    settings.DEBUG = True  # the demo's published password
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill("ccdg-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def links(page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = []
    for href in hrefs:
        if not href or href.startswith(("mailto:", "tel:", "javascript:", "#")):
            continue
        parts = urlsplit(urldefrag(href)[0])
        if parts.scheme or parts.netloc:
            continue  # another site
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith("/") and not SKIP.search(parts.path):
            found.append(path)
    return found


def walk(page, axe: Axe) -> tuple[dict[str, list[str]], dict[str, list[dict]], set[str]]:
    """(CSP violations by page, serious or critical axe violations by page, the kinds of
    page checked)."""
    csp: dict[str, list[str]] = {}
    access: dict[str, list[dict]] = {}
    seen, patterns, queue = set(), set(), ["/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            pattern = resolve(urlsplit(path).path).view_name
        except Resolver404:
            continue
        if pattern in patterns:
            continue  # this kind of page is checked already
        patterns.add(pattern)
        page.console_messages.clear()
        response = page.goto(path)
        if response is None or response.status >= 400:
            continue
        page.wait_for_load_state("load")
        blocked = [m for m in page.console_messages if "Content Security Policy" in m]
        if blocked:
            csp[path] = blocked
        result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        bad = [v for v in result.response["violations"] if v.get("impact") in SERIOUS]
        if bad:
            access[path] = [
                {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]),
                 "example": v["nodes"][0]["html"][:160] if v["nodes"] else ""}
                for v in bad
            ]  # fmt: skip
        queue.extend(p for p in links(page) if p not in seen)
    return csp, access, patterns


@pytest.mark.parametrize("role", ROLES)
def test_no_page_breaks_the_csp_or_has_a_serious_accessibility_violation(
    new_page, demo, role, capsys
):
    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, role)

    csp, access, visited = walk(page, Axe())

    impacts = Counter(v["impact"] for found in access.values() for v in found)
    with capsys.disabled():
        print(
            f"\n[{role}] {len(visited)} kinds of page; CSP violations on {len(csp)}; "
            f"axe serious/critical: {dict(impacts)}"
        )
        for path, found in access.items():
            print(f"  {path}: {[(v['id'], v['nodes'], v['example']) for v in found]}")
    assert len(visited) >= 10  # the walk reached the role's pages
    assert csp == {}
    assert access == {}
