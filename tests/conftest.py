"""Small shared fixtures. Each test still arranges the rows it is about."""

from __future__ import annotations

import pytest

from sessions_app.models import ProgramRole
from tests.factories import ProgramFactory, ProgramRoleFactory, UserFactory


@pytest.fixture
def program(db):
    return ProgramFactory()


@pytest.fixture
def coordinator(program):
    """A user who coordinates ``program``."""
    return ProgramRoleFactory(program=program, role=ProgramRole.Role.COORDINATOR).user


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)
