"""The respondent's pages: one section per page with progress, drafts saved at each step and
resumed through the same link, per-page validation, the identifier guard as a warning,
submission once, and one identical page for unknown, used and closed links.

The emailed link trades its token for a signed cookie and sends the browser on to the wave's
own address, so no later request, page or log line holds the token, and no server session is
written while a survey is answered."""

from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys import services, waves
from surveys.models import Response, Wave, WaveRecipient
from tests.factories import GroupFactory, GroupMembershipFactory, UserFactory

PHI_TEXT = "Mrs. Alvarez, seen on March 14th, taught me patience."
CLEAN_TEXT = "The group helped me listen without rushing to fix things."
REFUSED_HEADING = "This survey link can't be used"


@pytest.fixture
def group(program):
    group = GroupFactory(program=program, name="Tuesday group")
    for _ in range(2):
        GroupMembershipFactory(group=group)
    return group


def open_wave(program, coordinator, **kwargs):
    kwargs.setdefault("name", "Spring 2027")
    kwargs.setdefault("closes_at", timezone.now() + timedelta(days=14))
    kwargs.setdefault("audience", Wave.Audience.ALL_ACTIVE)
    return waves.wave_open(program=program, actor=coordinator, **kwargs)


@pytest.fixture
def wave(program, coordinator, group):
    return open_wave(program, coordinator)


@pytest.fixture
def recipient(wave):
    return wave.recipients.order_by("pk").first()


def link_of(recipient: WaveRecipient) -> str:
    """The address in the e-mail: the only one that holds the token."""
    return waves.link_path(recipient)


def token_of(recipient: WaveRecipient) -> str:
    return link_of(recipient).strip("/").rsplit("/", 1)[-1]


def url_of(recipient: WaveRecipient) -> str:
    """The wave's own address, where the respondent answers (no token in it)."""
    wave = recipient.wave
    return reverse("survey_answer:page", kwargs={"slug": wave.program.slug, "wave": wave.slug})


def open_link(client, recipient: WaveRecipient):
    """Open the e-mailed link as a browser does; returns the page it leads to."""
    exchanged = client.get(link_of(recipient))
    assert exchanged.status_code == 303
    assert exchanged["Location"] == url_of(recipient)
    return client.get(exchanged["Location"])


def post(client, recipient, page: int, action: str, **answers):
    return client.post(url_of(recipient), {"page": page, "action": action, **answers})


@pytest.fixture
def answering(client, recipient):
    """A browser that opened the recipient's link."""
    assert open_link(client, recipient).status_code == 200
    return client


def fresh(recipient: WaveRecipient) -> WaveRecipient:
    return WaveRecipient.objects.get(pk=recipient.pk)


def checked(html: str, code: str) -> list[str]:
    """The values of the ticked radio buttons of a question."""
    return re.findall(rf'name="{code}" id="[^"]+" value="([^"]*)" autocomplete="off" checked', html)


def test_first_page_shows_the_first_section_the_progress_and_the_wave(client, program, recipient):
    response = open_link(client, recipient)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Section 1 of 5: Demographics" in html
    assert 'aria-valuenow="20"' in html and "progress-bar survey-w-20" in html
    assert "Spring 2027" in html and program.name in html
    closes = recipient.wave.closes_at.astimezone(ZoneInfo(program.timezone))
    assert f"{closes:%B} {closes.day}, {closes:%Y}, {closes:%H:%M}" in html
    assert "Every question may be skipped." in html
    assert 'name="gender"' in html and 'name="group"' in html
    assert 'value="Tuesday group"' in html  # the group question offers the program's groups
    assert 'name="skill_empathy"' not in html  # the next section is on the next page
    assert 'value="next"' in html and 'value="save"' in html
    assert 'value="back"' not in html and 'value="submit"' not in html


def test_token_pages_are_not_cached_indexed_or_sent_as_referrer(client, recipient):
    exchange = client.get(link_of(recipient))
    page = client.get(url_of(recipient))
    for response in (exchange, page, client.get(reverse("survey_answer:thanks"))):
        assert "no-store" in response["Cache-Control"]
        assert response["Referrer-Policy"] == "same-origin"
        assert "noindex" in response["X-Robots-Tag"]


# --- The link's token is traded for a cookie -----------------------------------------------


def test_opening_the_link_sends_the_browser_to_an_address_without_the_token(client, recipient):
    token = token_of(recipient)
    response = client.get(link_of(recipient))

    assert response.status_code == 303
    assert response["Location"] == f"/survey/{recipient.wave.program.slug}/{recipient.wave.slug}/"
    assert token not in response["Location"]
    (cookie,) = response.cookies.values()
    assert cookie["path"] == response["Location"]  # sent to this wave's pages only
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert 0 < int(cookie["max-age"]) <= 12 * 3600
    assert not cookie["secure"]  # the test client speaks plain HTTP; over HTTPS it is Secure


def test_the_cookie_is_secure_over_https(recipient):
    response = Client().get(link_of(recipient), secure=True)
    (cookie,) = response.cookies.values()
    assert cookie["secure"] is True


def test_no_page_form_or_redirect_of_the_survey_holds_the_token(client, recipient):
    """Every page of a whole answer, with a save, a resume, a refused answer and the thanks."""
    token = token_of(recipient)
    seen = [open_link(client, recipient)]
    seen.append(post(client, recipient, 1, "next", gender="female"))
    seen.append(client.get(seen[-1]["Location"]))
    seen.append(post(client, recipient, 2, "save", skill_empathy="4"))
    seen.append(client.get(seen[-1]["Location"]))  # "your answers are saved", continue link
    seen.append(client.get(url_of(recipient) + "?page=3"))
    seen.append(post(client, recipient, 3, "next", relevance_communicate="9"))  # refused value
    seen.append(post(client, recipient, 5, "submit", open_unique=CLEAN_TEXT))
    seen.append(client.get(seen[-1]["Location"]))
    assert [r.status_code for r in seen] == [200, 302, 200, 302, 200, 200, 200, 302, 200]
    assert "Thank you" in seen[-1].content.decode()
    for response in seen:
        html = response.content.decode()
        assert token not in html and token not in response.get("Location", "")
        for action in re.findall(r'<form[^>]*action="([^"]*)"', html):
            assert action == url_of(recipient)
    continue_link = re.search(r'href="([^"]+)">Continue now', seen[4].content.decode())
    assert continue_link.group(1) == url_of(recipient)


def test_answering_anonymously_creates_no_server_session(client, recipient):
    open_link(client, recipient)
    post(client, recipient, 1, "next", gender="alien")  # refused, shown again
    post(client, recipient, 1, "save", gender="female")
    client.cookies.clear()  # back later, in another browser
    open_link(client, recipient)
    answer_everything(client, recipient)
    client.get(reverse("survey_answer:thanks"))

    assert Response.objects.count() == 1
    assert Session.objects.count() == 0


def test_answering_while_signed_in_leaves_the_session_untouched(client, recipient):
    """The session is saved on every request elsewhere; its time would mark the answer's."""
    client.force_login(UserFactory())
    row = Session.objects.get()
    Session.objects.filter(pk=row.pk).update(expire_date=row.expire_date - timedelta(minutes=5))
    before = Session.objects.get()

    open_link(client, recipient)
    answer_everything(client, recipient)
    client.get(reverse("survey_answer:thanks"))

    assert Response.objects.count() == 1
    assert list(Session.objects.values_list("pk", "expire_date", "session_data")) == [
        (before.pk, before.expire_date, before.session_data)
    ]


class UserAfterwards:
    """A middleware that asks, once the page is made, who the visitor is (as a header)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Signed-In"] = str(request.user.is_authenticated)
        return response


def test_later_middleware_still_knows_the_visitor(client, recipient, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.UserAfterwards"]
    client.force_login(UserFactory())

    exchanged = client.get(link_of(recipient))
    page = client.get(exchanged["Location"])
    saved = post(client, recipient, 1, "save", gender="female")

    assert [r["X-Signed-In"] for r in (exchanged, page, saved)] == ["True"] * 3


def test_the_page_without_its_cookie_is_refused_like_an_unknown_link(client, recipient):
    unknown = client.get(reverse("survey_answer:answer", kwargs={"token": secrets.token_hex(20)}))
    response = client.get(url_of(recipient))
    assert normalised(response) == normalised(unknown)
    assert post(client, recipient, 1, "save", gender="male").status_code == 404
    assert fresh(recipient).draft == {}


def test_a_tampered_cookie_is_refused_like_an_unknown_link(client, recipient):
    unknown = normalised(client.get(reverse("survey_answer:answer", kwargs={"token": "0" * 40})))
    exchanged = client.get(link_of(recipient))
    (name,) = exchanged.cookies.keys()
    value = client.cookies[name].value
    for forged in (
        value[:-1] + ("A" if value[-1] != "A" else "B"),  # the signature
        token_of(recipient),  # the bare token, unsigned
        value.replace(token_of(recipient), "0" * 40),  # another token, old signature
    ):
        client.cookies[name] = forged
        assert normalised(client.get(url_of(recipient))) == unknown
        assert normalised(post(client, recipient, 1, "save", gender="male")) == unknown
    assert fresh(recipient).draft == {}


def test_an_expired_cookie_is_refused_like_an_unknown_link(client, recipient, monkeypatch):
    unknown = normalised(client.get(reverse("survey_answer:answer", kwargs={"token": "0" * 40})))
    open_link(client, recipient)
    assert client.get(url_of(recipient)).status_code == 200
    later = time.time() + 13 * 3600  # the page was left open overnight
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: later)
        assert normalised(client.get(url_of(recipient))) == unknown
        assert normalised(post(client, recipient, 1, "save", gender="male")) == unknown
    assert fresh(recipient).draft == {}
    # Opening the e-mailed link again starts a new visit.
    assert open_link(client, recipient).status_code == 200


def test_each_page_renews_the_cookie(client, recipient):
    (name,) = client.get(link_of(recipient)).cookies.keys()
    page = client.get(url_of(recipient))
    saved = post(client, recipient, 1, "next", gender="female")
    for response in (page, saved):
        cookie = response.cookies[name]
        assert int(cookie["max-age"]) > 0 and cookie["path"] == url_of(recipient)


def test_two_surveys_in_one_browser_keep_their_own_links(client, program, coordinator, recipient):
    other = open_wave(program, coordinator, name="Follow-up").recipients.order_by("pk").first()
    open_link(client, recipient)
    open_link(client, other)

    post(client, recipient, 1, "next", gender="female")
    post(client, other, 1, "next", gender="male")

    assert fresh(recipient).draft == {"gender": "female"}
    assert fresh(other).draft == {"gender": "male"}


def test_a_cookie_of_one_wave_does_not_open_another(client, program, coordinator, recipient):
    other = open_wave(program, coordinator, name="Follow-up").recipients.order_by("pk").first()
    unknown = normalised(client.get(reverse("survey_answer:answer", kwargs={"token": "0" * 40})))
    (value,) = [m.value for m in client.get(link_of(recipient)).cookies.values()]
    (other_name,) = Client().get(link_of(other)).cookies.keys()
    # The first wave's signed value under the other wave's cookie, sent to the other's page.
    client.cookies.clear()
    client.cookies[other_name] = value
    assert normalised(client.get(url_of(other))) == unknown
    assert normalised(post(client, other, 1, "save", gender="male")) == unknown
    assert fresh(other).draft == {} and fresh(recipient).draft == {}


def test_no_token_reaches_the_logs_in_a_whole_answer_flow(client, recipient, caplog):
    caplog.set_level(logging.DEBUG)
    token = token_of(recipient)
    # Mistakes on the way: a truncated or extended address, a wrong method, a forged form.
    client.get(link_of(recipient) + "extra/")
    client.put(link_of(recipient))
    Client(enforce_csrf_checks=True).post(link_of(recipient), {"page": 1})
    client.get(reverse("survey_answer:answer", kwargs={"token": "f" * 40}))
    open_link(client, recipient)
    post(client, recipient, 1, "save", gender="female")
    answer_everything(client, recipient)
    client.get(reverse("survey_answer:thanks"))
    client.get(link_of(recipient))  # used now: refused

    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Not Found: /s/") for m in messages)  # logged, without the token
    assert any(m.startswith("Method Not Allowed (PUT): /s/") for m in messages)
    assert any(m.startswith("Forbidden (CSRF") for m in messages)
    assert [m for m in messages if token in m or "f" * 40 in m] == []
    assert token not in caplog.text


# --- Answering ------------------------------------------------------------------------------


def test_next_saves_the_page_into_the_draft_and_moves_on(answering, recipient):
    client = answering
    response = post(client, recipient, 1, "next", gender="female", group="Tuesday group")
    assert response.status_code == 302
    assert response["Location"] == url_of(recipient)
    rec = fresh(recipient)
    assert rec.draft == {"gender": "female", "group": "Tuesday group"}
    assert rec.draft_page == 1
    assert Response.objects.count() == 0
    html = client.get(url_of(recipient)).content.decode()
    assert "Section 2 of 5: Skills the group fostered" in html
    assert 'value="back"' in html


def test_leaving_and_coming_back_resumes_at_the_saved_page_with_answers(answering, recipient):
    client = answering
    post(client, recipient, 1, "next", gender="male")
    response = post(client, recipient, 2, "save", skill_empathy="4", skill_blind_spots="2")
    assert response["Location"] == url_of(recipient) + "?saved=1"
    saved = client.get(response["Location"]).content.decode()
    assert "Your answers so far are saved." in saved

    client.cookies.clear()  # another browser, the same link
    html = open_link(client, recipient).content.decode()
    assert "Section 2 of 5" in html
    assert checked(html, "skill_empathy") == ["4"]
    assert checked(html, "skill_blind_spots") == ["2"]


def test_back_keeps_the_page_and_returns_to_the_previous_one(answering, recipient):
    client = answering
    post(client, recipient, 1, "next", gender="nonbinary")
    post(client, recipient, 2, "back", skill_empathy="5")
    rec = fresh(recipient)
    assert rec.draft_page == 0
    assert rec.draft == {"gender": "nonbinary", "skill_empathy": "5"}
    html = client.get(url_of(recipient)).content.decode()
    assert "Section 1 of 5" in html
    assert checked(html, "gender") == ["nonbinary"]


def test_a_cleared_answer_leaves_the_draft(answering, recipient):
    post(answering, recipient, 1, "next", gender="female", clinician_type="nurse")
    post(answering, recipient, 1, "next", gender="", clinician_type="nurse")
    assert fresh(recipient).draft == {"clinician_type": "nurse"}


def test_page_parameter_moves_between_pages_within_bounds(answering, recipient):
    client = answering
    assert "Section 3 of 5" in client.get(url_of(recipient) + "?page=3").content.decode()
    for bad in ("0", "6", "-1", "two"):
        html = client.get(f"{url_of(recipient)}?page={bad}").content.decode()
        assert "Section 1 of 5" in html  # the saved page


def test_an_invalid_value_is_refused_with_a_message_and_the_rest_is_kept(answering, recipient):
    response = post(answering, recipient, 1, "next", gender="alien", clinician_type="nurse")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Some answers need your attention." in html
    assert "This answer could not be kept: “alien” is not one of female, male" in html
    assert checked(html, "clinician_type") == ["nurse"]
    assert "Section 1 of 5" in html
    rec = fresh(recipient)
    assert rec.draft == {} and rec.draft_page == 0 and rec.draft_saved_at is None


def test_too_long_free_text_is_refused_and_kept_as_typed(answering, recipient):
    text = "a" * 4001
    response = post(answering, recipient, 5, "save", open_unique=text, open_other=CLEAN_TEXT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "is longer than 4000 characters" in html
    assert f">{text}</textarea>" in html and f">{CLEAN_TEXT}</textarea>" in html
    assert fresh(recipient).draft == {}


def test_identifiers_in_free_text_warn_then_keep_as_written_continues(answering, recipient, caplog):
    client = answering
    caplog.set_level(logging.DEBUG)
    response = post(client, recipient, 5, "save", open_unique=PHI_TEXT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your answer may identify a patient." in html
    assert "<mark" in html and ">Mrs. Alvarez</mark>" in html and ">March 14th</mark>" in html
    assert 'name="keep_as_written"' in html
    assert f">{PHI_TEXT}</textarea>" in html
    assert fresh(recipient).draft == {}

    response = post(client, recipient, 5, "save", open_unique=PHI_TEXT, keep_as_written="1")
    assert response.status_code == 302
    assert fresh(recipient).draft == {"open_unique": PHI_TEXT}

    # Accepted once, the same text is not flagged again when the page is submitted.
    response = post(client, recipient, 5, "submit", open_unique=PHI_TEXT)
    assert response.status_code == 302
    assert Response.objects.get().answers == {"open_unique": PHI_TEXT}
    assert "Alvarez" not in caplog.text


def test_clean_free_text_passes_without_a_warning(answering, recipient):
    response = post(answering, recipient, 5, "save", open_improve=CLEAN_TEXT)
    assert response.status_code == 302
    assert fresh(recipient).draft == {"open_improve": CLEAN_TEXT}


def answer_everything(client, recipient) -> dict[str, str]:
    """All five pages through the wave's address (the browser has opened the link)."""
    pages = [
        {"gender": "female", "clinician_type": "physician", "group": "Tuesday group"},
        {"skill_empathy": "4", "skill_self_reflection": "5"},
        {"relevance_communicate": "3"},
        {"challenge_isolation": "2", "addressed_isolation": "1"},
        {"open_unique": CLEAN_TEXT},
    ]
    for number, answers in enumerate(pages[:-1], start=1):
        assert post(client, recipient, number, "next", **answers).status_code == 302
    response = post(client, recipient, 5, "submit", **pages[-1])
    assert response.status_code == 302
    assert response["Location"] == reverse("survey_answer:thanks")
    return {k: v for page in pages for k, v in page.items()}


def test_submit_in_an_anonymous_wave_stores_an_unlinked_response(answering, recipient):
    client = answering
    given = answer_everything(client, recipient)
    thanks = client.get(reverse("survey_answer:thanks"))
    assert "Your answers have been received." in thanks.content.decode()

    response = Response.objects.get()
    assert response.answers == given
    assert response.recipient is None
    assert response.source == Response.Source.ONLINE
    now = timezone.now().astimezone(UTC)
    assert response.submitted_at == datetime(now.year, now.month, now.day, tzinfo=UTC)
    rec = fresh(recipient)
    # Nothing on the recipient's row says so yet: that is recorded in batches of at least k.
    assert rec.responded is False
    assert rec.responded_at is None
    assert rec.draft == {} and rec.draft_saved_at is None
    assert not waves.link_usable(rec)


def test_submitting_forgets_the_cookie(client, recipient):
    (name,) = client.get(link_of(recipient)).cookies.keys()
    response = post(client, recipient, 5, "submit", open_unique=CLEAN_TEXT)
    assert response.status_code == 302
    cookie = response.cookies[name]
    assert cookie.value == "" and cookie["path"] == url_of(recipient)


def test_submit_in_a_confidential_wave_links_the_response(client, program, coordinator, group):
    wave = open_wave(program, coordinator, name="Follow-up", mode=Wave.Mode.CONFIDENTIAL)
    rec = wave.recipients.first()
    open_link(client, rec)
    given = answer_everything(client, rec)
    response = Response.objects.get()
    assert response.answers == given
    assert response.recipient == rec
    assert fresh(rec).responded_at is not None


def test_the_form_states_the_mode(client, program, coordinator, recipient):
    html = open_link(client, recipient).content.decode()
    assert "Your answers are stored without your name" in html
    assert "linked to your name" not in html

    wave = open_wave(program, coordinator, name="Follow-up", mode=Wave.Mode.CONFIDENTIAL)
    html = open_link(client, wave.recipients.first()).content.decode()
    assert "Your answers are linked to your name so that the program can follow up" in html
    assert "stored without your name" not in html


def test_a_required_question_is_enforced_at_submit_on_its_page(client, program, coordinator):
    instrument = services.instrument_create(slug="short-survey", name="Short survey")
    first = services.section_add(instrument=instrument, title="About you")
    roles = [("md", "Physician"), ("rn", "Nurse")]
    services.question_add(
        section=first, code="role", text="Your role", type="single_choice", required=True,
        choices=roles,
    )  # fmt: skip
    second = services.section_add(instrument=instrument, title="Comments")
    services.question_add(section=second, code="comments", text="Comments", type="free_text")
    instrument = services.instrument_publish(instrument=instrument)
    GroupMembershipFactory(group=GroupFactory(program=program))
    wave = open_wave(program, coordinator, instrument=instrument)
    rec = wave.recipients.first()
    html = open_link(client, rec).content.decode()
    assert "required" in html and "Every question may be skipped." not in html

    post(client, rec, 1, "next")
    response = post(client, rec, 2, "submit", comments=CLEAN_TEXT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Section 1 of 2: About you" in html
    assert "This question needs an answer before you submit." in html
    assert Response.objects.count() == 0
    assert fresh(rec).draft == {"comments": CLEAN_TEXT}  # what the last page held is kept

    post(client, rec, 1, "next", role="rn")
    assert post(client, rec, 2, "submit", comments=CLEAN_TEXT).status_code == 302
    assert Response.objects.get().answers == {"role": "rn", "comments": CLEAN_TEXT}


def test_a_second_submission_through_a_used_link_is_refused(client, recipient):
    open_link(client, recipient)
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    answer_everything(client, recipient)
    # The same browser, its cookie put back, or the e-mailed link opened again.
    for name, value in cookies.items():
        client.cookies[name] = value
    response = post(client, recipient, 5, "submit", open_other=CLEAN_TEXT)
    assert response.status_code == 404
    assert REFUSED_HEADING in response.content.decode()
    assert Response.objects.count() == 1
    assert post(client, recipient, 1, "save", gender="male").status_code == 404
    assert client.get(link_of(recipient)).status_code == 404
    assert fresh(recipient).draft == {}


def normalised(response) -> tuple:
    """Status, headers and body, without what differs on every request anyway."""
    body = re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    headers = {k: v for k, v in response.headers.items() if k not in ("Expires",)}
    return response.status_code, headers, body


def test_unknown_used_and_closed_links_get_one_identical_page(
    client, program, coordinator, group, wave, caplog
):
    caplog.set_level(logging.DEBUG)
    used, spare = wave.recipients.order_by("pk")[:2]
    open_link(client, used)
    answer_everything(client, used)

    closed_early = open_wave(program, coordinator, name="Closed early")
    waves.wave_close(wave=closed_early, actor=coordinator)
    past_date = open_wave(program, coordinator, name="Past its date")
    Wave.objects.filter(pk=past_date.pk).update(closes_at=timezone.now() - timedelta(minutes=1))

    paths = {
        "used": link_of(used),
        "closed early": link_of(closed_early.recipients.first()),
        "closing date passed": link_of(past_date.recipients.first()),
        "unknown": reverse("survey_answer:answer", kwargs={"token": secrets.token_hex(20)}),
        "not a token": reverse("survey_answer:answer", kwargs={"token": "not-a-token"}),
        "the wave's page without its cookie": url_of(spare),
        "a page of no wave": reverse(
            "survey_answer:page", kwargs={"slug": program.slug, "wave": "no-such-wave"}
        ),
    }
    pages = {name: normalised(client.get(path)) for name, path in paths.items()}
    reference = pages.pop("unknown")
    assert reference[0] == 404
    assert REFUSED_HEADING in reference[2]
    assert "coordinators" in reference[2]
    assert program.name not in reference[2] and "Spring 2027" not in reference[2]
    assert "no-store" in reference[1]["Cache-Control"]
    assert reference[1]["Referrer-Policy"] == "same-origin"
    for name, page in pages.items():
        assert page == reference, name
    # A POST is refused the same way, and saves nothing.
    for path in paths.values():
        assert normalised(client.post(path, {"page": 1, "action": "next"})) == reference
    assert Response.objects.count() == 1
    assert fresh(spare).draft == {}
    # Refused links are not written to the server's log with their tokens.
    assert "/s/" not in caplog.text


def test_a_link_that_closes_between_two_pages_is_refused_without_saving(
    answering, recipient, coordinator
):
    post(answering, recipient, 1, "next", gender="female")
    waves.wave_close(wave=recipient.wave, actor=coordinator)
    response = post(answering, recipient, 2, "next", skill_empathy="3")
    assert response.status_code == 404
    assert fresh(recipient).draft == {"gender": "female"}


def test_a_signed_in_person_can_answer_through_the_link(client, recipient):
    client.force_login(UserFactory())
    assert open_link(client, recipient).status_code == 200
    assert post(client, recipient, 1, "next", gender="male").status_code == 302


def test_the_answer_page_costs_a_few_queries(answering, recipient, django_assert_max_num_queries):
    client = answering
    post(client, recipient, 1, "next", gender="female")
    post(client, recipient, 2, "next", skill_empathy="4")
    # The link, its "used" marker, the instrument (2), the groups, the saved draft.
    with django_assert_max_num_queries(6):
        response = client.get(url_of(recipient))
    assert response.status_code == 200
    with django_assert_max_num_queries(1):
        assert (
            client.get(reverse("survey_answer:answer", kwargs={"token": "0" * 40})).status_code
            == 404
        )
