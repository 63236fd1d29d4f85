"""Fixtures shared by the analysis tests."""

import pytest

from sessions_app.models import ProgramRole
from tests.factories import ProgramRoleFactory


@pytest.fixture
def viewer(program):
    """A report viewer of ``program``: may see the analysis, the coding and every export."""
    return ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
