"""Fixtures shared by the qualitative coding tests."""

import pytest

from analysis.coding import services as coding
from tests.factories import WaveFactory


@pytest.fixture
def wave(program):
    return WaveFactory(program=program, name="Spring 2027", slug="spring-2027")


@pytest.fixture
def named(wave, coordinator, viewer):
    """The coordinator and a report viewer named as reviewers 1 and 2."""
    coding.reviewers_set(wave=wave, first=coordinator, second=viewer, actor=coordinator)
    return coordinator, viewer
