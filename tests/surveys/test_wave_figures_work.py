"""The wave figures (behind the wave page, the wave list, the runs list and every analysis of
an online wave) read each table once: their work grows with recipients + responses."""

from __future__ import annotations

import secrets

import pytest
from django.db import connection

from surveys import waves
from surveys.models import Response, Wave, WaveRecipient
from tests.factories import ClinicianFactory, ResponseFactory, WaveFactory
from tests.plans import largest_node_rows

pytestmark = pytest.mark.django_db

RECIPIENTS = 40
RESPONSES = 30


@pytest.fixture
def busy_wave(program):
    wave = WaveFactory(program=program, source=Wave.Source.ONLINE, distributed_count=None)
    for clinician in ClinicianFactory.create_batch(RECIPIENTS, program=program):
        WaveRecipient.objects.create(
            wave=wave,
            clinician=clinician,
            email=clinician.email,
            nonce=secrets.token_hex(16),
            token_hash=secrets.token_hex(32),
        )
    ResponseFactory.create_batch(RESPONSES - 3, wave=wave, source=Response.Source.ONLINE)
    ResponseFactory.create_batch(
        3, wave=wave, source=Response.Source.ONLINE, excluded_reason="duplicate form"
    )
    return wave


def test_wave_figures_count_each_table_once(busy_wave):
    f = waves.figures(busy_wave)
    assert (f.distributed, f.returned, f.excluded) == (RECIPIENTS, RESPONSES, 3)


def test_wave_figures_never_multiply_recipients_by_responses(busy_wave):
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's executed plan")
    rows = largest_node_rows(waves.waves_with_figures(Wave.objects.filter(pk=busy_wave.pk)))
    # Joining both tables gives RECIPIENTS x RESPONSES = 1,200 rows before COUNT(DISTINCT).
    assert rows <= RECIPIENTS + RESPONSES
