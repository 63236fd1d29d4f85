"""Forms of the coordinator's survey pages. They parse and check input; the services decide.

Dates and times are entered in the program's time zone (``program.timezone``).
"""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.core.exceptions import ValidationError

from sessions_app.models import Group, Program

from . import builtin, linking
from .models import Instrument, Wave, WaveSeries
from .responses import GROUP_CODE, QuestionSpec, choices_for
from .waves import MAX_LAST_SESSIONS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

MODE_HELP = (
    "Anonymous: responses are not linked to people; you see how many answered, never who. "
    "Confidential: each response is linked to its respondent so you can follow up, and the "
    "form tells respondents so."
)


RESERVED_SLUGS = {"new", "paper"}


def _slug_free(value: str) -> str:
    """Words used by the survey pages' own addresses cannot name a wave."""
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is used by the survey pages; choose another.")
    return value


def attach_errors(
    form: forms.Form, exc: ValidationError, fields: dict[str, str], default: str | None = None
) -> None:
    """Put a service's ``ValidationError`` on the form: dict keys on the matching fields
    (``fields`` maps the service's key to the form's field), anything else on ``default``
    (a field, or the whole form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(default, exc.messages)
        return
    for key, errors in exc.error_dict.items():
        field = fields.get(key, key)
        form.add_error(field if field in form.fields else None, [m for e in errors for m in e])


class WaveForm(forms.Form):
    """Opening an online wave: who gets it, until when, with which instrument."""

    name = forms.CharField(max_length=120, help_text="For example “Spring 2027”.")
    slug = forms.SlugField(
        max_length=60,
        required=False,
        label="Short name in addresses",
        help_text="Letters, digits and hyphens. Leave empty to make one from the name.",
    )
    instrument = forms.ModelChoiceField(
        queryset=Instrument.objects.none(),
        empty_label=None,
        help_text="Published versions only.",
    )
    mode = forms.ChoiceField(
        choices=Wave.Mode.choices,
        initial=Wave.Mode.ANONYMOUS,
        widget=forms.RadioSelect,
        help_text=MODE_HELP,
    )
    audience = forms.ChoiceField(
        label="Who receives it",
        choices=Wave.Audience.choices,
        initial=Wave.Audience.LAST_SESSIONS,
        widget=forms.RadioSelect,
    )
    audience_sessions = forms.IntegerField(
        label="Number of sessions",
        required=False,
        min_value=1,
        max_value=MAX_LAST_SESSIONS,
        initial=3,
        help_text="For “attendees of the last sessions”: who was present at any of the last "
        "N sessions held, across all groups.",
    )
    audience_group = forms.ModelChoiceField(
        label="Group",
        queryset=Group.objects.none(),
        required=False,
        empty_label="Choose a group",
        help_text="For “the members of one group”.",
    )
    closes_on = forms.DateField(label="Closing date", widget=DATE)
    closes_time = forms.TimeField(
        label="Closing time", widget=TIME, initial=time(23, 59), help_text="Local time."
    )
    reminder_days = forms.IntegerField(
        label="Reminder, days before closing",
        min_value=0,
        max_value=60,
        initial=3,
        help_text="Those who have not answered get one reminder this many days before the "
        "closing date (0 = no automatic reminder).",
    )
    is_pilot = forms.BooleanField(
        label="Pilot wave",
        required=False,
        help_text="Pilot responses stay out of the analysis by default.",
    )

    def clean_slug(self) -> str:
        return _slug_free(self.cleaned_data["slug"])

    # The service's error keys -> this form's fields.
    ERROR_FIELDS = {"closes_at": "closes_on"}

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program
        self.fields["instrument"].queryset = Instrument.objects.filter(
            published_at__isnull=False
        ).order_by("name", "-version")
        self.fields["instrument"].label_from_instance = lambda i: f"{i.name}, version {i.version}"
        self.fields["audience_group"].queryset = Group.objects.filter(program=program).order_by(
            "name"
        )

    def closes_at(self) -> datetime:
        return self.program.at(self.cleaned_data["closes_on"], self.cleaned_data["closes_time"])


class PaperWaveForm(forms.Form):
    """A wave of paper forms handed out in a session."""

    name = forms.CharField(max_length=120, help_text="For example “Spring 2027, paper”.")
    slug = forms.SlugField(
        max_length=60,
        required=False,
        label="Short name in addresses",
        help_text="Letters, digits and hyphens. Leave empty to make one from the name.",
    )
    distributed = forms.IntegerField(
        label="Forms handed out",
        min_value=0,
        max_value=100000,
        required=False,
        help_text="The response rate is returned forms over this number. Leave empty if "
        "nobody counted (then there is no rate).",
    )
    handed_out_on = forms.DateField(label="Date handed out", widget=DATE, required=False)
    mode = forms.ChoiceField(
        choices=Wave.Mode.choices,
        initial=Wave.Mode.ANONYMOUS,
        widget=forms.RadioSelect,
        help_text=MODE_HELP,
    )
    is_pilot = forms.BooleanField(
        label="Pilot wave",
        required=False,
        help_text="Pilot responses stay out of the analysis by default.",
    )

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program

    def clean_slug(self) -> str:
        return _slug_free(self.cleaned_data["slug"])

    def handed_out_at(self) -> datetime | None:
        day = self.cleaned_data.get("handed_out_on")
        return self.program.at(day, time(12, 0)) if day else None


class ExtendForm(forms.Form):
    closes_on = forms.DateField(label="New closing date", widget=DATE)
    closes_time = forms.TimeField(
        label="Closing time", widget=TIME, initial=time(23, 59), help_text="Local time."
    )

    ERROR_FIELDS = {"closes_at": "closes_on"}

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program

    def closes_at(self) -> datetime:
        return self.program.at(self.cleaned_data["closes_on"], self.cleaned_data["closes_time"])


class ExcludeForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        help_text="For example “damaged form” or “answered twice”. The response still counts "
        "as returned, not as analysed.",
    )


class ResponsesUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, first line = question codes.")


def _example_code(recipe) -> str:
    return "".join("E" if c.kind == "letter" else f"{c.low + 6:02d}" for c in recipe)


class PaperEntryForm(forms.Form):
    """Every question of the instrument on one page, for typing in a paper form."""

    form_id = forms.CharField(
        label="Form number",
        max_length=40,
        required=False,
        help_text="The number written on the paper form, if any; the same number cannot be "
        "entered twice.",
    )
    excluded_reason = forms.CharField(
        label="Exclude from the analysis because",
        max_length=200,
        required=False,
        help_text="Leave empty unless the form cannot be used, for example “damaged form”.",
    )

    def __init__(
        self,
        *args,
        specs: list[QuestionSpec],
        group_labels: list[str] | None,
        code_recipe: tuple | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.specs = specs
        if code_recipe:
            parts = "; ".join(c.question.lower() for c in code_recipe)
            self.fields["link_code"] = forms.CharField(
                label="Personal code",
                max_length=20,
                required=False,
                help_text=f"As written on the form, in this order: {parts} (for example "
                f"{_example_code(code_recipe)}). Leave empty if the form has none.",
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
        for spec in specs:
            self.fields[self.field_name(spec.code)] = self._field(spec, group_labels)

    @staticmethod
    def field_name(code: str) -> str:
        return f"q_{code}"

    @staticmethod
    def _field(spec: QuestionSpec, group_labels: list[str] | None) -> forms.Field:
        label = f"{spec.code}: {spec.text}"
        if spec.is_text:
            return forms.CharField(
                label=label,
                required=False,
                strip=True,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
        choices = choices_for(spec, group_labels)
        if spec.code == GROUP_CODE and not spec.choices:
            if not choices:
                return forms.CharField(
                    label=label,
                    required=False,
                    widget=forms.TextInput(attrs={"class": "form-control"}),
                    help_text="The group label written on the form (for example 1, 2, 3).",
                )
            return forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", "No answer"), *choices],
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[*choices, ("", "No answer")],
            initial="",
            widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        )

    def sections(self) -> list[tuple[str, list[tuple[QuestionSpec, forms.BoundField]]]]:
        """(section title, [(question, bound field)]) in the instrument's order."""
        out: list[tuple[str, list]] = []
        last = None
        for spec in self.specs:
            if spec.section_id != last:
                out.append((spec.section_title, []))
                last = spec.section_id
            out[-1][1].append((spec, self[self.field_name(spec.code)]))
        return out

    def answers(self) -> dict[str, str]:
        return {s.code: self.cleaned_data.get(self.field_name(s.code)) or "" for s in self.specs}

    def attach_errors(self, exc: ValidationError) -> None:
        fields = {s.code: self.field_name(s.code) for s in self.specs}
        if "link_code" in self.fields:
            fields["link_code"] = "link_code"
        attach_errors(self, exc, fields)


class SeriesForm(forms.Form):
    """A new series of waves."""

    name = forms.CharField(max_length=120, help_text="For example “Pre/post 2027-2028”.")
    instrument = forms.ChoiceField(
        label="Questionnaire",
        help_text="Every wave of the series uses it (any published version). The version with "
        "the wellbeing module adds a single-item burnout measure and three items on wellbeing "
        "at work.",
    )
    design = forms.ChoiceField(choices=WaveSeries.Design.choices, widget=forms.RadioSelect)
    ask_code = forms.BooleanField(
        label="Ask respondents of anonymous waves for their personal code",
        required=False,
        initial=True,
        help_text="Without it, anonymous waves are compared as wholes only (unpaired); "
        "confidential waves always link by recipient.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = dict(
            Instrument.objects.filter(published_at__isnull=False)
            .order_by("slug", "version")
            .values_list("slug", "name")
        )
        self.fields["instrument"].choices = sorted(  # type: ignore[attr-defined]
            names.items(), key=lambda item: (item[0] != builtin.SLUG, item[1])
        )


class SeriesWaveForm(forms.Form):
    """Adding a wave to a series: the program's waves of the series' questionnaire that are in
    no series yet."""

    wave = forms.ModelChoiceField(queryset=Wave.objects.none(), empty_label=None)
    label = forms.CharField(
        max_length=60,
        required=False,
        help_text="For example “Baseline”, “One year on”; left empty, the next in order.",
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wave"].queryset = candidates  # type: ignore[attr-defined]


class RecipeForm(forms.Form):
    """The program's personal-code recipe, from the presets."""

    recipe = forms.ChoiceField(label="The personal code is made of", widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipe"].choices = [  # type: ignore[attr-defined]
            (",".join(r), linking.recipe_label(r).capitalize()) for r in linking.RECIPE_PRESETS
        ]
