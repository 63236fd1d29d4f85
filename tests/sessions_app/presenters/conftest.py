"""Fixtures shared by the presenter, RSVP and attendance tests."""

import pytest

from tests.factories import GroupFactory


@pytest.fixture
def group(program):
    return GroupFactory(program=program, name="Group 1")
