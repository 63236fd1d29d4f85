"""Fixtures shared by the case-note tests."""

import pytest

from sessions_app.models import ProgramRole
from tests.factories import (
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    SessionFactory,
    UserFactory,
)


@pytest.fixture
def world(db):
    """A program with one group: a presenter, another member, a facilitator; a second group with
    an outsider; the program's coordinator and report viewer, a staff user and the coordinator of
    another program."""
    program = ProgramFactory(slug="im", case_note_retention_days=7)
    group = GroupFactory(program=program)
    session = SessionFactory(group=group)
    presenter = GroupMembershipFactory(group=group, clinician__user=UserFactory()).clinician
    member = GroupMembershipFactory(group=group, clinician__user=UserFactory()).clinician
    facilitator = FacilitatorAssignmentFactory(
        group=group, facilitator=FacilitatorFactory(program=program, user=UserFactory())
    ).facilitator
    outsider = GroupMembershipFactory(
        group=GroupFactory(program=program), clinician__user=UserFactory()
    ).clinician
    return {
        "program": program,
        "group": group,
        "session": session,
        "presentation": PresentationFactory(session=session, clinician=presenter),
        "presenter": presenter.user,
        "member": member.user,
        "facilitator": facilitator.user,
        "outsider": outsider.user,
        "coordinator": ProgramRoleFactory(program=program).user,
        "report_viewer": ProgramRoleFactory(
            program=program, role=ProgramRole.Role.REPORT_VIEWER
        ).user,
        "staff": UserFactory(is_staff=True, is_superuser=True),
        "other_coordinator": ProgramRoleFactory().user,
    }
