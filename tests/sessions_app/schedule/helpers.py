"""Helpers shared by the schedule tests."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from sessions_app.schedule import services as schedule_services
from tests.factories import ClinicianFactory, GroupMembershipFactory, UserFactory
from tests.sessions_app.helpers import NEW_YORK


def schedule(group, *, days=10, room=None, at=time(7, 30)):
    return schedule_services.session_create(
        group=group,
        starts_at=datetime.combine(
            timezone.localdate() + timedelta(days=days), at, tzinfo=NEW_YORK
        ),
        duration_minutes=60,
        room=room,
        agenda=schedule_services.agenda_for_program(group.program),
        actor=None,
    )


def member(group):
    user = UserFactory()
    GroupMembershipFactory(
        group=group, clinician=ClinicianFactory(program=group.program, user=user)
    )
    return user
