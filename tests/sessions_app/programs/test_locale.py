"""A program's country (``Program.locale``): the paper of its printed documents and how its
pages write dates, chosen on the settings page and shown on the program's page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from sessions_app.programs.models import (
    Program,
    date_format_for,
    datetime_format_for,
    paper_size_for,
)
from tests.sessions_app.helpers import url
from tests.sessions_app.programs.test_views import program_form_data

US, CA, GB, IE, AU, NZ = (
    Program.Locale.US,
    Program.Locale.CA,
    Program.Locale.GB,
    Program.Locale.IE,
    Program.Locale.AU,
    Program.Locale.NZ,
)


@pytest.mark.parametrize(
    ("locale", "paper"), [(US, "letter"), (CA, "letter"), (GB, "A4"), (IE, "A4"), (AU, "A4"),
                          (NZ, "A4")],
)  # fmt: skip
def test_paper_is_letter_in_the_us_and_canada_and_a4_elsewhere(locale, paper):
    assert paper_size_for(locale) == paper
    assert Program(locale=locale).paper_size == paper


def test_date_formats_by_locale():
    assert date_format_for(US) == date_format_for(CA) == "M j, Y"
    assert date_format_for(GB) == date_format_for(AU) == "j M Y"
    assert date_format_for(US, weekday=True) == "D M j, Y"
    assert date_format_for(GB, weekday=True, long=True) == "l j F Y"
    assert date_format_for(US, weekday=True, long=True) == "l, F j, Y"
    assert datetime_format_for(US) == "M j, Y, g:i A"
    assert datetime_format_for(CA) == "M j, Y, H:i"
    assert datetime_format_for(NZ) == "j M Y H:i"
    assert Program(locale=US).date_format == "M j, Y"
    assert Program(locale=IE).datetime_format == "j M Y H:i"


def render(text: str, **context) -> str:
    return Template("{% load program_dates %}" + text).render(Context(context))


def test_filters_write_the_day_and_time_on_the_programs_clock_and_its_way():
    us = Program(locale=US, timezone="America/New_York")
    uk = Program(locale=GB, timezone="Europe/London")
    # 12:30 UTC: 7:30 in New York, 12:30 in London.
    moment = datetime(2026, 12, 8, 12, 30, tzinfo=UTC)
    day = date(2026, 12, 8)
    line = (
        "{{ m|program_date:p }} | {{ m|program_datetime:p }} | {{ m|program_day:p }} | "
        "{{ m|program_day_time:p }} | {{ d|program_long_date:p }} | {{ d|program_long_day:p }} | "
        "{{ d|program_datetime:p }} | {{ none|program_date:p }}"
    )
    with timezone.override("Asia/Tokyo"):  # already Dec 9 there: the program's clock counts
        assert render(line, m=moment, d=day, p=us, none=None) == (
            "Dec 8, 2026 | Dec 8, 2026, 7:30 AM | Tue Dec 8, 2026 | Tue Dec 8, 2026, 7:30 AM | "
            "December 8, 2026 | Tuesday, December 8, 2026 | Dec 8, 2026 | "
        )
        assert render(line, m=moment, d=day, p=uk, none=None) == (
            "8 Dec 2026 | 8 Dec 2026 12:30 | Tue 8 Dec 2026 | Tue 8 Dec 2026 12:30 | "
            "8 December 2026 | Tuesday 8 December 2026 | 8 Dec 2026 | "
        )


@pytest.mark.django_db
def test_coordinator_sets_the_country_and_the_program_page_shows_it(coordinator_client, program):
    assert program.locale == US  # the default

    response = coordinator_client.post(
        url("program_edit", program), program_form_data(program, locale=GB)
    )

    program.refresh_from_db()
    assert response.status_code == 302
    assert program.locale == GB
    page = coordinator_client.get(program.get_absolute_url()).content.decode()
    today = program.today()
    assert "United Kingdom" in page
    assert f"A4 paper, dates as {today.day} {today:%b %Y}" in page
    form = coordinator_client.get(url("program_edit", program)).content.decode()
    assert '<option value="en-GB" selected>United Kingdom</option>' in form


@pytest.mark.django_db
def test_settings_sent_without_a_country_keep_the_programs(coordinator_client, program):
    program.locale = AU
    program.save()
    client_data = program_form_data(program, name="Renamed")
    client_data.pop("locale", None)

    coordinator_client.post(url("program_edit", program), client_data)

    program.refresh_from_db()
    assert program.name == "Renamed" and program.locale == AU


@pytest.mark.django_db
def test_settings_refuse_an_unknown_country(coordinator_client, program):
    response = coordinator_client.post(
        url("program_edit", program), program_form_data(program, locale="fr-FR")
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"locale"}
