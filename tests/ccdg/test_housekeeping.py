"""The registry of hourly clean-ups: each app's are there; a name taken twice is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from ccdg import housekeeping


def test_each_app_registers_its_cleanups_under_the_names_of_the_task_result():
    assert set(housekeeping.registered()) == {
        "roster_drafts_deleted",
        "invitations_expired",
        "response_drafts_deleted",
        "exports_expired",
        "password_reset_requests_expired",
    }


def test_a_name_taken_by_another_cleanup_is_refused_and_the_first_stays():
    first = housekeeping.registered()["exports_expired"]

    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        housekeeping.register("exports_expired", lambda *, now: 0)

    assert housekeeping.registered()["exports_expired"] is first
    housekeeping.register("exports_expired", first)  # a second ready(): nothing changes
    assert housekeeping.registered()["exports_expired"] is first
