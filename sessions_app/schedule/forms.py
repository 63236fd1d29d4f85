"""Forms of the schedule pages. They parse and check input; the services decide."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.db.models import Q

from sessions_app.agenda.models import AgendaTemplate
from sessions_app.groups.models import Facilitator, Group
from sessions_app.programs.models import Program
from sessions_app.schedule import services
from sessions_app.schedule.models import RefreshmentOrder, Room, Session

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")

FREQUENCIES = [("monthly", "Monthly, on the n-th weekday"), ("weekly", "Every N weeks")]
ORDINAL_CHOICES = [(n, label.capitalize()) for n, label in services.ORDINALS.items()]
WEEKDAY_CHOICES = list(enumerate(services.WEEKDAYS))


def _rooms(program: Program):
    return Room.objects.filter(program=program).order_by("name")


class ScheduleForm(forms.Form):
    """The recurrence, and per group: whether to schedule it, its room and its own time."""

    frequency = forms.ChoiceField(choices=FREQUENCIES, initial="monthly")
    ordinal = forms.TypedChoiceField(
        label="Which weekday of the month",
        choices=ORDINAL_CHOICES,
        coerce=int,
        initial=2,
        help_text="For monthly meetings.",
    )
    weekday = forms.TypedChoiceField(choices=WEEKDAY_CHOICES, coerce=int, initial=1)
    interval = forms.IntegerField(
        label="Every how many weeks",
        min_value=1,
        max_value=8,
        initial=1,
        help_text="For weekly meetings (1 = every week, 2 = every other week).",
    )
    first = forms.DateField(
        label="First date (on or after)",
        widget=DATE,
        help_text="The series starts on the first matching day from this date.",
    )
    count = forms.IntegerField(label="Number of sessions per group", min_value=1, max_value=60)
    start_time = forms.TimeField(
        label="Common start time", initial=time(7, 30), widget=TIME, help_text="Local time."
    )
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=10, max_value=240)
    agenda = forms.ModelChoiceField(queryset=AgendaTemplate.objects.none(), empty_label=None)
    skip_scheduled = forms.BooleanField(
        label="Skip dates a group already has a session on",
        required=False,
        initial=True,
        help_text="Generating again (a longer series, a new group) then makes no duplicates. "
        "A cancelled session frees its date.",
    )

    def __init__(self, *args, program: Program, groups: list[Group], **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program
        self.groups = groups
        self.fields["agenda"].queryset = AgendaTemplate.objects.filter(
            Q(program__isnull=True) | Q(program=program)
        )
        rooms = _rooms(program)
        for group in groups:
            self.fields[f"g{group.pk}_include"] = forms.BooleanField(
                label=f"Schedule {group.name}", required=False, initial=True
            )
            self.fields[f"g{group.pk}_room"] = forms.ModelChoiceField(
                label=f"Room for {group.name}",
                queryset=rooms,
                required=False,
                initial=group.default_room_id,
                empty_label="No room yet",
            )
            self.fields[f"g{group.pk}_time"] = forms.TimeField(
                label=f"Own start time for {group.name}",
                required=False,
                widget=TIME,
                help_text="Leave empty to meet at the common time."
                + (f" Meets: {group.meeting_slot}." if group.meeting_slot else ""),
            )

    def group_rows(self):
        """(group, include field, room field, time field) for the template's table."""
        return [
            (g, self[f"g{g.pk}_include"], self[f"g{g.pk}_room"], self[f"g{g.pk}_time"])
            for g in self.groups
        ]

    def recurrence(self) -> services.Recurrence:
        d = self.cleaned_data
        if d["frequency"] == "monthly":
            return services.Recurrence("monthly", weekday=d["weekday"], ordinal=d["ordinal"])
        return services.Recurrence("weekly", weekday=d["weekday"], interval=d["interval"])

    def slots(self) -> list[services.GroupSlot]:
        d = self.cleaned_data
        return [
            services.GroupSlot(
                group=g, room=d[f"g{g.pk}_room"], start_time=d[f"g{g.pk}_time"] or d["start_time"]
            )
            for g in self.groups
            if d[f"g{g.pk}_include"]
        ]


class SessionPlanForm(forms.Form):
    theme = forms.CharField(
        max_length=120,
        required=False,
        help_text="Optional: a topic the group chose for this session, for example “Patients "
        "who do not follow advice”. Shown on the agenda and in the reminders. A topic, "
        "never a patient.",
    )
    mode = forms.ChoiceField(
        label="Where the group meets",
        choices=Session.Mode.choices,
        widget=forms.RadioSelect,
    )
    meeting_url = forms.CharField(
        label="Meeting link",
        max_length=500,
        required=False,
        help_text="Online and hybrid sessions: the https:// link of the video meeting. Only "
        "the group's members and facilitators (and the coordinator) see it, on the session "
        "pages, in their reminders and calendars; it is never exported.",
        widget=forms.URLInput(attrs={"autocomplete": "off"}),
    )
    two_cases = forms.BooleanField(
        label="Two cases in this session",
        required=False,
        help_text="Two presenters, and the agenda that gives each case its own presentation "
        "and go-around (“CCDG 60 minutes, two cases”).",
    )


class RescheduleForm(forms.Form):
    day = forms.DateField(label="Date", widget=DATE)
    start_time = forms.TimeField(label="Start time", widget=TIME, help_text="Local time.")
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), required=False, empty_label="No room"
    )

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program
        self.fields["room"].queryset = _rooms(program)

    def starts_at(self) -> datetime:
        return self.program.at(self.cleaned_data["day"], self.cleaned_data["start_time"])


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        help_text="Shown to the group and in their calendars, for example “Grand rounds moved”.",
    )


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "location", "capacity"]
        help_texts = {"capacity": "Seats; a larger group gets a warning."}


class BlackoutForm(forms.Form):
    date = forms.DateField(widget=DATE)
    reason = forms.CharField(max_length=200, required=False, help_text="For example “Holiday”.")


class RefreshmentForm(forms.ModelForm):
    class Meta:
        model = RefreshmentOrder
        fields = ["status", "vendor", "items", "headcount", "cost", "notes"]


class AbsenceForm(forms.Form):
    facilitator = forms.ModelChoiceField(
        queryset=Facilitator.objects.none(),
        widget=forms.Select(attrs={"class": "form-select form-select-sm", "data-search": ""}),
    )
    reason = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )

    def __init__(self, *args, facilitators: list[Facilitator], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = Facilitator.objects.filter(
            pk__in=[f.pk for f in facilitators]
        )


class FeedForm(forms.Form):
    """Which feed to create: the person's own, or a program-wide one they coordinate."""

    program = forms.ModelChoiceField(queryset=Program.objects.none(), required=False)

    def __init__(self, *args, programs: list[Program], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(pk__in=[p.pk for p in programs])
