"""An anonymous wave stays anonymous for someone who reads the whole database.

The reader sees every table and PostgreSQL's system columns (``xmin``: the transaction that
wrote a row version; ``xmax``: one that deleted or locked it; ``ctid``: its physical place),
every id and every timestamp, and the app's INFO logs; not the secret key. For each way of
joining a response to a recipient, these tests compute the set of recipients the join points
at and require it to hold at least *k* people (the program's small-cell threshold), or nobody.

The answers go through the respondent's pages (the emailed link, then the pages it leads to),
so what the request cycle writes (sessions, drafts, markers) is covered too.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from sessions_app.models import SMALL_CELL_K_DEFAULT
from surveys import waves
from surveys.models import Response, Wave, WaveRecipient
from tests.factories import GroupFactory, GroupMembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

K = SMALL_CELL_K_DEFAULT
PAGES = [
    {"gender": "female", "clinician_type": "physician", "group": "Tuesday group"},
    {"skill_empathy": "4", "skill_self_reflection": "5"},
    {"relevance_communicate": "3"},
    {"challenge_isolation": "2", "addressed_isolation": "1"},
    {"open_unique": "Hearing how others handle a hard conversation helped."},
]


@pytest.fixture(autouse=True)
def only_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("system columns (xmin, xmax, ctid) are PostgreSQL's")


@pytest.fixture
def members(program):
    group = GroupFactory(program=program, name="Tuesday group")
    return [GroupMembershipFactory(group=group).clinician for _ in range(8)]


def open_wave(program, coordinator, name: str) -> Wave:
    return waves.wave_open(
        program=program,
        actor=coordinator,
        name=name,
        closes_at=timezone.now() + timedelta(days=10),
        audience=Wave.Audience.ALL_ACTIVE,
    )


def answer_through_the_link(recipient: WaveRecipient) -> None:
    """What a respondent does: open the emailed link, fill each page, submit."""
    client = Client()
    opened = client.get(waves.link_path(recipient), follow=True)
    assert opened.status_code == 200
    page_url = opened.request["PATH_INFO"]
    for number, answers in enumerate(PAGES, start=1):
        action = "submit" if number == len(PAGES) else "next"
        sent = client.post(page_url, {"page": str(number), "action": action, **answers})
        assert sent.status_code == 302, sent.content.decode()[:500]


def system_columns(table: str, where: str = "", params=()) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, xmin::text::bigint, xmax::text::bigint, ctid::text FROM {table} {where}",  # noqa: S608
            params,
        )
        rows = cursor.fetchall()
    return [
        {"id": i, "xmin": xmin, "xmax": xmax, "ctid": tuple(map(int, ctid.strip("()").split(",")))}
        for i, xmin, xmax, ctid in rows
    ]


def recipients_of(wave: Wave) -> list[dict]:
    return system_columns(WaveRecipient._meta.db_table, "WHERE wave_id = %s", [wave.pk])


def responses_of(wave: Wave) -> list[dict]:
    return system_columns(Response._meta.db_table, "WHERE wave_id = %s", [wave.pk])


def rows_written_or_locked_by(xid: int) -> dict[str, list[str]]:
    """Every live row, in every table, that transaction ``xid`` wrote or locked."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [t for (t,) in cursor.fetchall()]
        for table in tables:
            cursor.execute(
                f"SELECT row_to_json(t)::text FROM {table} t "  # noqa: S608
                "WHERE t.xmin::text = %s OR t.xmax::text = %s",
                [str(xid), str(xid)],
            )
            rows = [r for (r,) in cursor.fetchall()]
            if rows:
                found[table] = rows
    return found


def transaction_order_candidates(response: dict, recipients: list[dict]) -> set[int]:
    """The recipients an attacker who orders by transaction id would pick: those whose row
    was written or locked first after the response's transaction (a respondent's row changes
    after their answer), else, when none was, those written last before it."""

    def marks(rec: dict) -> list[int]:
        return [rec["xmin"]] + ([rec["xmax"]] if rec["xmax"] else [])

    later = [m for r in recipients for m in marks(r) if m > response["xmin"]]
    if later:
        first = min(later)
        return {r["id"] for r in recipients if first in marks(r)}
    last = max(m for r in recipients for m in marks(r))
    return {r["id"] for r in recipients if last in marks(r)}


def identifying_values(recipient: WaveRecipient) -> list[str]:
    c = recipient.clinician
    return [
        recipient.email,
        recipient.nonce,
        recipient.token_hash,
        waves.link_token(recipient),
        c.first_name + " " + c.last_name,
        f'"recipient_id":{recipient.pk}',
        f'"clinician_id":{c.pk}',
    ]


def test_no_join_on_system_columns_ids_or_times_names_a_respondent(
    program, coordinator, members, caplog
):
    caplog.set_level(logging.INFO)
    wave = open_wave(program, coordinator, "Spring 2027")
    people = list(wave.recipients.select_related("clinician").order_by("pk"))
    opened_in = {r["xmin"] for r in recipients_of(wave)}
    assert len(opened_in) == 1  # all links written by the wave's opening

    answered = [people[5], people[1], people[6], people[3]]  # fewer than k: no batch yet
    for rec in answered:
        answer_through_the_link(rec)
    responses = responses_of(wave)
    assert len(responses) == len(answered)

    # 1. Same transaction: nothing the submission wrote or locked names a person.
    for response in responses:
        touched = rows_written_or_locked_by(response["xmin"])
        # The wave's responses digest is one row per wave holding sums over all its responses.
        allowed = {
            "surveys_response", "surveys_submittedlink", "surveys_wave", "surveys_responsesdigest"
        }  # fmt: skip
        assert set(touched) <= allowed, touched
        text = " ".join(row for rows in touched.values() for row in rows)
        for rec in people:
            for value in identifying_values(rec):
                assert value not in text
    # 2. No recipient row was written or locked since the wave opened (no xmin, no xmax).
    for rec in recipients_of(wave):
        assert rec["xmin"] in opened_in and rec["xmax"] == 0
    # 3. Ordering by transaction id points at every recipient alike.
    for response in responses:
        assert len(transaction_order_candidates(response, recipients_of(wave))) == len(people)
    # 4. Times: a response keeps the day only; recipient rows keep no time at all.
    for response in Response.objects.filter(wave=wave):
        at = response.submitted_at
        assert (at.hour, at.minute, at.second, at.microsecond) == (0, 0, 0, 0)
        assert response.recipient_id is None
    assert set(WaveRecipient.objects.values_list("responded_at", flat=True)) == {None}
    assert not WaveRecipient.objects.filter(responded=True).exists()
    assert waves.respondents_record(wave=wave) == 0  # fewer than k are waiting

    # The k-th answer completes a batch: all k are recorded in one transaction.
    answered.append(people[0])
    answer_through_the_link(people[0])
    assert waves.respondents_record(wave=wave) == K == len(answered)
    rows = recipients_of(wave)
    marked = [r for r in rows if WaveRecipient.objects.get(pk=r["id"]).responded]
    assert {r["id"] for r in marked} == {rec.pk for rec in answered}
    assert len({r["xmin"] for r in marked}) == 1
    for response in responses_of(wave):
        assert response["xmin"] not in {r["xmin"] for r in rows}
        assert response["xmin"] not in {r["xmax"] for r in rows}
        candidates = transaction_order_candidates(response, rows)
        assert len(candidates) >= K, (response, rows)
        touched = rows_written_or_locked_by(response["xmin"])
        assert "surveys_waverecipient" not in touched
    # The batch's markers are gone: not even the secret key ties a transaction to a person.
    assert not wave.submitted_links.exists()

    # 5. Logs: what the app logged while people answered names no one.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for rec in people:
        for value in identifying_values(rec):
            assert value not in logged
        assert not re.search(rf"\brecipient\D{{0,3}}{rec.pk}\b", logged)


def test_the_order_people_answer_in_leaves_no_trace_on_their_rows(program, coordinator, members):
    """Two waves to the same people, answered by the same six in opposite orders: after the
    batch, the recipients' rows are in the same order by place, id and transaction, so an
    attacker who pairs responses with recipients by rank guesses the same in both cases,
    while the truth differs."""
    first = open_wave(program, coordinator, "Spring 2027")
    second = open_wave(program, coordinator, "Autumn 2027")
    six = [c.pk for c in members[:6]]

    for wave, order in ((first, six), (second, list(reversed(six)))):
        links = {r.clinician_id: r for r in wave.recipients.all()}
        for clinician_id in order:
            answer_through_the_link(links[clinician_id])
        assert waves.respondents_record(wave=wave) == 6

    def recipient_side_order(wave: Wave, key: str) -> list[int]:
        by_id = dict(WaveRecipient.objects.filter(wave=wave).values_list("pk", "clinician_id"))
        marked = [r for r in recipients_of(wave) if by_id[r["id"]] in six]
        return [by_id[r["id"]] for r in sorted(marked, key=lambda r: (r[key], r["id"]))]

    for key in ("ctid", "id", "xmin"):
        assert recipient_side_order(first, key) == recipient_side_order(second, key)
    # While the responses' own order follows who answered when.
    assert len(responses_of(first)) == len(responses_of(second)) == 6


def test_a_used_link_stays_used_before_and_after_its_batch(program, coordinator, members):
    wave = open_wave(program, coordinator, "Spring 2027")
    rec = wave.recipients.first()
    answer_through_the_link(rec)
    assert not waves.link_usable(waves.recipient_for_token(waves.link_token(rec)))
    with pytest.raises(waves.LinkRefused):
        waves.response_submit(recipient=rec, answers={})
    for other in wave.recipients.exclude(pk=rec.pk)[: K - 1]:
        answer_through_the_link(other)
    assert waves.respondents_record(wave=wave) == K
    assert not waves.link_usable(waves.recipient_for_token(waves.link_token(rec)))
    assert Response.objects.filter(wave=wave).count() == K
