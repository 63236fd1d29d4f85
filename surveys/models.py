"""Survey instruments as data: versioned instruments, their sections, questions and choices.

A published version is immutable; :mod:`surveys.services` refuses changes to it and
:func:`surveys.services.instrument_new_version` copies it into a new draft to edit.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from ccdg.models import UploadDraft


class Instrument(models.Model):
    """One version of a questionnaire, identified by ``slug`` and ``version``."""

    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="instrument_slug_version"),
        ]

    def __str__(self) -> str:
        state = "published" if self.is_published else "draft"
        return f"{self.name} v{self.version} ({state})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Section(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["instrument", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """A question with a stable ``code``, unique within its instrument.

    ``positive_values`` lists the value codes counted as the "positive" category when the
    answers are dichotomised for analysis (for example ``["4", "5"]`` = agree).
    """

    class Type(models.TextChoices):
        AGREEMENT5 = "agreement5", "Agreement, 5 points"
        CHALLENGE4 = "challenge4", "Challenge, 4 points"
        RATING5 = "rating5", "Rating 1-5"
        YES_NO = "yes_no", "Yes / no"
        SINGLE_CHOICE = "single_choice", "Single choice"
        FREE_TEXT = "free_text", "Free text"

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="questions", editable=False
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    code = models.SlugField(max_length=60)
    text = models.TextField()
    type = models.CharField(max_length=20, choices=Type.choices)
    required = models.BooleanField(default=False)
    positive_values = models.JSONField(
        default=list,
        blank=True,
        help_text="Value codes counted as the positive category for analysis.",
    )

    class Meta:
        ordering = ["instrument", "section__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "code"], name="question_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.instrument_id = self.section.instrument_id
        super().save(*args, **kwargs)


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveSmallIntegerField(default=0)
    value = models.CharField(max_length=40)
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["question", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="choice_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.value}: {self.label}"


class Wave(models.Model):
    """One distribution of an instrument in a program, for example "Spring 2027".

    An *online* wave sends each recipient a single-use link; a *paper* wave records forms handed
    out in a session (``distributed_count``) and typed in or imported afterwards. In anonymous
    mode (the default) a response carries no link to its respondent: the recipient row only
    records *that* the person answered, which is what the response rate and the reminders need.
    """

    class Mode(models.TextChoices):
        ANONYMOUS = "anonymous", "Anonymous"
        CONFIDENTIAL = "confidential", "Confidential (responses linked to people)"

    class Source(models.TextChoices):
        ONLINE = "online", "Online, a link for each recipient"
        PAPER = "paper", "Paper forms, typed in or imported"

    class Audience(models.TextChoices):
        LAST_SESSIONS = "last_sessions", "Attendees of the last sessions"
        GROUP = "group", "The members of one group"
        ALL_ACTIVE = "all_active", "All active participants"

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.PROTECT, related_name="survey_waves"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="waves")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.ANONYMOUS)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ONLINE)
    is_pilot = models.BooleanField(
        default=False, help_text="Pilot responses stay out of the analysis by default."
    )
    audience = models.CharField(max_length=16, choices=Audience.choices, blank=True)
    audience_sessions = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For 'attendees of the last sessions': how many."
    )
    audience_group = models.ForeignKey(
        "sessions_app.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the coordinator closes the wave early."
    )
    distributed_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Paper waves: how many forms were handed out."
    )
    reminder_days = models.PositiveSmallIntegerField(
        default=3, help_text="Days before the closing date when non-respondents are reminded."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "-opens_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "slug"], name="wave_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_paper(self) -> bool:
        return self.source == self.Source.PAPER

    @property
    def is_anonymous(self) -> bool:
        return self.mode == self.Mode.ANONYMOUS

    def is_open(self, now=None) -> bool:
        """Online waves accept answers between opening and closing, unless closed early."""
        now = now or timezone.now()
        if self.is_paper or self.closed_at is not None:
            return False
        return self.opens_at <= now and (self.closes_at is None or now < self.closes_at)

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.is_paper:
            return "paper"
        if self.is_open(now):
            return "open"
        if self.closed_at is None and self.opens_at > now:
            return "scheduled"
        return "closed"


def recipient_secret(nonce: str, purpose: str) -> str:
    """A value derived from a recipient's nonce with the secret key, one per ``purpose``.

    Rows keyed by such a value (drafts, "this link was used" markers) cannot be tied to their
    recipient by someone who holds the database but not the secret key.
    """
    key = f"ccdg.survey-{purpose}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def submitted_marker(nonce: str) -> str:
    """The "link used" marker of the recipient with this nonce (see :class:`SubmittedLink`)."""
    return recipient_secret(nonce, "submitted")


class WaveRecipient(models.Model):
    """A person a wave was sent to, and their single-use link.

    The link's token is derived from ``nonce`` with the secret key (see
    :func:`surveys.waves.link_token`); only its hash is stored, so a copy of the database alone
    cannot answer for anyone. Saved answers live in :class:`ResponseDraft`, keyed by a secret
    derived from the nonce, never on this row.

    In an anonymous wave nothing writes or locks this row when its person saves or submits:
    ``responded`` is set later, for at least *k* recipients at once, by
    :func:`surveys.waves.respondents_record` (see docs/surveys.md, "Anonymity"), and
    ``responded_at`` stays empty. In a confidential wave both are set on submission.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="recipients")
    clinician = models.ForeignKey(
        "sessions_app.Clinician", on_delete=models.PROTECT, related_name="survey_links"
    )
    email = models.EmailField(help_text="The address when the wave was opened.")
    nonce = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    responded = models.BooleanField(
        default=False,
        help_text="Known to have answered (anonymous waves: recorded in batches of at least k).",
    )
    responded_at = models.DateTimeField(null=True, blank=True, help_text="Confidential waves only.")

    class Meta:
        ordering = ["wave", "id"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "clinician"], name="wave_recipient_unique"),
        ]

    def __str__(self) -> str:
        return f"recipient {self.pk} of wave {self.wave_id}"

    def refresh_from_db(self, *args, **kwargs):
        self.__dict__.pop("saved_draft", None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def draft_key(self) -> str:
        return recipient_secret(self.nonce, "draft")

    @property
    def submitted_marker(self) -> str:
        return submitted_marker(self.nonce)

    @cached_property
    def saved_draft(self) -> ResponseDraft | None:
        return ResponseDraft.objects.filter(key=self.draft_key).first()

    @property
    def draft(self) -> dict:
        """The answers saved so far (empty when none)."""
        return dict(self.saved_draft.answers) if self.saved_draft else {}

    @property
    def draft_page(self) -> int:
        return self.saved_draft.page if self.saved_draft else 0

    @property
    def draft_saved_at(self):
        return self.saved_draft.saved_at if self.saved_draft else None


class ResponseDraft(models.Model):
    """Answers saved through a link before submission.

    Keyed by :attr:`WaveRecipient.draft_key` and with no foreign key to the recipient (a
    foreign key would also lock the recipient's row on every save, which PostgreSQL records in
    the row's ``xmax``). Deleted when the answers are submitted.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="drafts")
    key = models.CharField(max_length=64, unique=True)
    answers = models.JSONField(default=dict, blank=True)
    page = models.PositiveSmallIntegerField(default=0)
    saved_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"draft {self.pk} of wave {self.wave_id}"


class SubmittedLink(models.Model):
    """ "This link has been used", written with an anonymous response, tied to no one.

    ``marker`` is :attr:`WaveRecipient.submitted_marker`: the app (which holds the secret key)
    can tell that a link was used, a database reader cannot tell whose. The batch job that
    sets ``WaveRecipient.responded`` deletes the markers it has recorded.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="submitted_links")
    marker = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"submitted link {self.pk} of wave {self.wave_id}"


class ResponseImport(UploadDraft):
    """An uploaded responses CSV waiting for the coordinator to confirm its preview."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="imports")


class Response(models.Model):
    """One returned questionnaire. ``answers`` maps question code to value code (or text).

    Answers are kept as one JSON object per response, validated against the wave's instrument
    on every write (:func:`surveys.responses.answers_clean`): the instrument version is fixed
    per wave, so the codes are stable, and the analysis reads one row per response.
    A response with an ``excluded_reason`` counts as returned but not as analysed.
    """

    class Source(models.TextChoices):
        ONLINE = "online", "Online"
        PAPER = "paper", "Paper, typed in"
        IMPORT = "import", "Imported from CSV"

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="responses")
    recipient = models.ForeignKey(
        WaveRecipient,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
        help_text="Confidential waves only; always empty in an anonymous wave.",
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    form_id = models.CharField(
        max_length=40, blank=True, help_text="The number written on a paper form, if any."
    )
    answers = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(
        help_text="In an anonymous online wave, the day only (midnight UTC)."
    )
    excluded_reason = models.CharField(max_length=200, blank=True)
    link_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Waves of a series: the keyed hash of the respondent's personal code "
        "(surveys.linking); never the code itself.",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    import_batch = models.ForeignKey(
        ResponseImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )

    class Meta:
        ordering = ["wave", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "form_id"],
                condition=~models.Q(form_id=""),
                name="response_form_id_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["wave", "link_hash"],
                condition=~models.Q(link_hash=""),
                name="response_link_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"response {self.pk} to wave {self.wave_id}"

    @property
    def is_excluded(self) -> bool:
        return bool(self.excluded_reason)


class ResponsesDigest(models.Model):
    """The running digest of a wave's responses (see :mod:`surveys.digest`), kept by the code
    that writes responses so that the analysis runs list can tell a current run from a stale
    one without reading every response. Its own table, so saving a wave never overwrites it."""

    wave = models.OneToOneField(Wave, on_delete=models.CASCADE, related_name="responses_digest")
    lane_0 = models.BigIntegerField(default=0)
    lane_1 = models.BigIntegerField(default=0)
    lane_2 = models.BigIntegerField(default=0)
    lane_3 = models.BigIntegerField(default=0)
    # The wave's figures read these, not a count of every response.
    returned = models.IntegerField(default=0)
    excluded = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"responses digest of wave {self.wave_id}"


#: The personal code's parts unless the program chooses others (surveys.linking.COMPONENTS).
DEFAULT_LINK_CODE_RECIPE = ("first_name_letter2", "birth_month", "mother_initial")


def default_link_code_recipe() -> list[str]:
    return list(DEFAULT_LINK_CODE_RECIPE)


class SurveySettings(models.Model):
    """A program's survey settings: the recipe of the personal code with which respondents of
    anonymous waves link their answers over time (:mod:`surveys.linking`)."""

    program = models.OneToOneField(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="survey_settings"
    )
    link_code_recipe = models.JSONField(
        default=default_link_code_recipe,
        help_text="The parts of the personal code, in order (surveys.linking.COMPONENTS).",
    )

    def __str__(self) -> str:
        return f"survey settings of program {self.program_id}"


class WaveSeries(models.Model):
    """Waves of one instrument linked over time: a baseline and follow-ups of the same people,
    or one wave per program year. Answers are paired by recipient in confidential waves and by
    the respondents' personal code in anonymous ones."""

    class Design(models.TextChoices):
        PRE_POST = "pre_post", "Before and after: a baseline and follow-ups"
        YEARLY = "yearly", "Year over year: one wave per program year"

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.PROTECT, related_name="wave_series"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    design = models.CharField(max_length=10, choices=Design.choices, default=Design.PRE_POST)
    instrument_slug = models.SlugField(
        max_length=60, help_text="Every wave of the series uses this instrument (any version)."
    )
    ask_code = models.BooleanField(
        default=True,
        help_text="Anonymous waves of the series ask respondents for their personal code.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "slug"], name="wave_series_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class SeriesWave(models.Model):
    """A wave's place in its series (a wave belongs to one series at most)."""

    series = models.ForeignKey(WaveSeries, on_delete=models.CASCADE, related_name="members")
    wave = models.OneToOneField(Wave, on_delete=models.CASCADE, related_name="series_membership")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=60, help_text="For example “Baseline”, “One year on”.")

    class Meta:
        ordering = ["series", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "position"], name="series_wave_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} of series {self.series_id}"
