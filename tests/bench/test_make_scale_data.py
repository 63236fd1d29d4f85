"""The scale data generator (bench/make_scale_data.py) at a small scale: the counts it promises,
the same data for the same seed, an intact audit chain, and the demo sign-ins."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from analysis.runs.models import AnalysisRun
from bench.make_scale_data import ONLINE_WAVE_SLUG, PAPER_WAVE_SLUG, ScaleDataRefused, build
from ccdg.audit import audit_chain_verify
from ccdg.models import AuditEvent
from ccdg.outbox.models import OutboxMessage
from sessions_app.models import Clinician, Program, ProgramRole, Session
from surveys.models import Response, Wave

pytestmark = pytest.mark.django_db

SCALE = 0.02  # a fiftieth of the full figures (50 programs, 6,600 clinicians...)


def snapshot() -> dict:
    """What two builds with the same seed must share: counts, names, dates, answers, states,
    and the order of the rows (ids relative to the first, as sequences move on on PostgreSQL
    when a transaction is rolled back)."""
    first_clinician = Clinician.objects.order_by("pk").values_list("pk", flat=True).first()
    return {
        "programs": list(Program.objects.order_by("pk").values_list("slug", "timezone")),
        "clinicians": [
            (pk - first_clinician, *rest)
            for pk, *rest in Clinician.objects.order_by("pk").values_list(
                "pk", "first_name", "last_name", "email", "discipline", "status"
            )
        ],
        "sessions": list(
            Session.objects.order_by("pk").values_list("group__name", "starts_at", "status")
        ),
        "answers": list(Response.objects.order_by("pk").values_list("answers", flat=True)),
        "outbox": list(OutboxMessage.objects.order_by("pk").values_list("kind", "email", "status")),
        "audit": list(
            AuditEvent.objects.order_by("chain_seq").values_list("action", "object_type")
        ),
    }


def test_small_scale_makes_the_promised_counts_with_an_intact_audit_chain():
    made = build(scale=SCALE)

    # The full figures times 0.02 (the demo counts in them); at least two programs.
    assert made["programs"] == 2
    assert made["clinicians"] == 132  # 6,600 x 0.02
    assert made["sessions"] == 140  # 7,000 x 0.02
    assert made["waves"] == 8  # 4, but the demo has five and adds its two large ones
    assert made["responses"] == 1000  # 50,000 x 0.02
    assert made["outbox"] == 400  # 20,000 x 0.02
    assert made["audit_events"] == 2000  # 100,000 x 0.02
    assert set(OutboxMessage.objects.values_list("status", flat=True)) >= {
        "sent", "pending", "failed",
    }  # fmt: skip
    assert set(Session.objects.values_list("status", flat=True)) == {"scheduled", "cancelled"}
    assert AnalysisRun.objects.filter(status=AnalysisRun.Status.DONE).count() == 2
    online = Wave.objects.get(program__slug="gim-ccdg", slug=ONLINE_WAVE_SLUG)
    paper = Wave.objects.get(program__slug="gim-ccdg", slug=PAPER_WAVE_SLUG)
    assert (online.source, online.recipients.count(), online.responses.count()) == (
        "online", 60, 44,  # 3,000 and 2,200 x 0.02
    )  # fmt: skip
    assert (paper.source, paper.responses.count()) == ("paper", 800)  # 40,000 x 0.02
    assert set(AnalysisRun.objects.values_list("wave", flat=True)) == {online.pk, paper.pk}
    report = audit_chain_verify()
    assert report.ok, report.problem
    assert report.checked == 2000
    call_command("audit_verify")  # the operator's check passes too (it raises when broken)


def test_demo_sign_ins_work_and_the_demo_users_reach_across_programs(client):
    build(scale=SCALE, analyse=False)  # the analysis runs are the slow part, not needed here

    for username in ("coordinator", "facilitator", "participant", "reports", "admin"):
        client.cookies.clear()
        signed_in = client.post("/accounts/login/", {"login": username, "password": "ccdg-demo"})
        assert signed_in.status_code == 302, (username, signed_in.status_code)
        home = client.get("/")
        assert home.status_code == 200, (username, home.status_code)
        assert home.wsgi_request.user.username == username
    User = get_user_model()
    reports = User.objects.get(username="reports")
    assert ProgramRole.objects.filter(user=reports, role="report_viewer").count() == 2
    assert Clinician.objects.filter(user__username="participant").count() == 2
    coordinator = User.objects.get(username="coordinator")
    assert ProgramRole.objects.filter(user=coordinator, role="coordinator").count() == 2


def test_the_same_seed_makes_the_same_data():
    with transaction.atomic():
        build(scale=SCALE, seed=7, analyse=False)
        first = snapshot()
        transaction.set_rollback(True)
    assert not Program.objects.exists()

    build(scale=SCALE, seed=7, analyse=False)

    again = snapshot()
    assert again["clinicians"][:5] == first["clinicians"][:5]
    assert again == first


def test_a_database_in_use_is_refused_and_nothing_is_written():
    get_user_model().objects.create_user(username="someone")

    with pytest.raises(ScaleDataRefused, match="already holds data"):
        build(scale=SCALE)

    assert not Program.objects.exists()
    assert get_user_model().objects.count() == 1
