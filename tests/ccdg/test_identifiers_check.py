"""Checking text as the person types: the guard's marks and reasons, before anything is saved."""

import html
import re

import pytest
from django.urls import reverse

from ccdg.identifier_check import MAX_CHARS
from ccdg.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHECK = "identifiers_check"


def check(client, text, field="difficulty"):
    return client.post(reverse(CHECK), {"field": field, field: text})


@pytest.fixture
def signed_in(client):
    client.force_login(UserFactory())
    return client


def test_identifiers_are_marked_with_their_reason(signed_in):
    response = check(signed_in, "Mrs. Alvarez, seen on March 14th, says I never listen.")
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    marked = re.findall(
        r'<mark title="([^"]*)" aria-describedby="(live-difficulty-\d)">(.*?)</mark>', page
    )
    assert [text for _, _, text in marked] == ["Mrs. Alvarez", "March 14th"]
    # each mark points to its numbered reason, which says what to write instead
    for reason, ref, _ in marked:
        assert f'<li id="{ref}">' in page
        assert reason in page
    assert "Full name" in page and "Date more specific than a year" in page
    assert "give the year only" in page


def test_clean_text_is_confirmed_and_empty_text_says_nothing(signed_in):
    clean = check(signed_in, "Ana, seen two weeks ago, says I never listen.")
    assert "No identifiers found so far." in clean.content.decode()
    assert "<mark" not in clean.content.decode()
    empty = check(signed_in, "   ")
    assert empty.status_code == 200
    assert "No identifiers" not in empty.content.decode()


def test_nothing_is_stored_or_cached(signed_in):
    before = AuditEvent.objects.count()
    response = check(signed_in, "Mrs. Alvarez, 555-867-5309")
    assert AuditEvent.objects.count() == before
    assert "no-store" in response["Cache-Control"]


def test_only_signed_in_people_may_check_and_only_by_post(client, signed_in):
    assert signed_in.get(reverse(CHECK)).status_code == 405
    anonymous = type(client)()
    response = check(anonymous, "Mrs. Alvarez")
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_text_longer_than_any_field_is_refused(signed_in):
    response = check(signed_in, "a" * (MAX_CHARS + 1))
    assert response.status_code == 413


def test_a_field_name_that_is_not_a_name_checks_nothing(signed_in):
    response = signed_in.post(reverse(CHECK), {"field": "../x", "../x": "Mrs. Alvarez"})
    assert response.status_code == 200
    assert "<mark" not in response.content.decode()
