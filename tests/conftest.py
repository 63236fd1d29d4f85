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


# How many combinations the authorization matrix (tests/authorization/) checked, by kind; the
# total is printed at the end of the run.
AUTHORIZATION_COUNTS = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def authorization_counts(pytestconfig) -> dict:
    return pytestconfig.stash.setdefault(AUTHORIZATION_COUNTS, {})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = config.stash.get(AUTHORIZATION_COUNTS, None)
    if counts:
        terminalreporter.write_line(
            f"authorization matrix: {counts.get('matrix', 0)} combinations (URLs x actors x "
            f"methods), {counts.get('cross-program', 0)} cross-program, "
            f"{counts.get('admin', 0)} admin"
        )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: figures kept by one test (the coordinator's
    home keeps its program's health a while) must not show in the next, whose program may have
    the same id."""
    from django.core.cache import cache

    cache.clear()
