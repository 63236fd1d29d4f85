"""Forms of the presenter, RSVP and attendance pages. They parse input only; the rules live in
:mod:`sessions_app.presenters.services`."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from ccdg import phi
from sessions_app.presenters.models import Attendance, Rsvp
from sessions_app.presenters.selectors import MEMBER_STATUSES
from sessions_app.presenters.services import TITLE_MAX
from sessions_app.roster.models import Clinician

TITLE_HELP = f"Optional, a few words about the theme. {phi.RULE}"


class VolunteerForm(forms.Form):
    working_title = forms.CharField(
        label="Working title",
        max_length=TITLE_MAX,
        required=False,
        help_text=TITLE_HELP,
        widget=forms.TextInput(attrs={"maxlength": TITLE_MAX, "autocomplete": "off"}),
    )


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(choices=Rsvp.Answer.choices)


class InviteForm(forms.Form):
    clinician = forms.ModelChoiceField(
        label="Ask a member to present",
        queryset=Clinician.objects.none(),
        widget=forms.Select(attrs={"data-search": ""}),
    )

    def __init__(self, *args, members: list[Clinician], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = Clinician.objects.filter(
            pk__in=[m.pk for m in members]
        ).order_by("last_name", "first_name")


MEMBER_CHOICES = [(s.value, s.label) for s in Attendance.Status if s.value in MEMBER_STATUSES]


#: Up to this many possible guests, the sheet lists them as boxes to tick.
GUESTS_AS_BOXES = 80


class AttendanceForm(forms.Form):
    """One radio group per member (field ``member_<id>``) and a list of guests."""

    guests = forms.ModelMultipleChoiceField(
        label="Guests from other groups",
        queryset=Clinician.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(
        self,
        *args,
        members: list[Clinician],
        candidates: QuerySet[Clinician],
        initial_status: dict[int, str],
        search_url: str = "",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.members = members
        for member in members:
            # No default: a sheet nobody has filled in must not claim anyone was present.
            self.fields[f"member_{member.pk}"] = forms.ChoiceField(
                label=member.full_name,
                choices=MEMBER_CHOICES,
                initial=initial_status.get(member.pk),
                widget=forms.RadioSelect,
                error_messages={"required": f"Mark {member.full_name} present, absent or excused."},
            )
        guests = self.fields["guests"]
        guests.queryset = candidates
        # A large program's guests are searched by name as one types (search_url) rather than
        # listed as thousands of boxes: the list then holds only the guests chosen so far.
        self.guests_searched = bool(search_url) and candidates.count() > GUESTS_AS_BOXES
        if self.guests_searched:
            chosen = self.data.getlist("guests") if self.is_bound else self.initial.get("guests")
            ids = [int(v) for v in chosen or () if str(v).isdigit()]
            guests.widget = forms.SelectMultiple(
                attrs={"class": "form-select", "data-search": "", "data-search-url": search_url}
            )
            guests.widget.choices = [
                (c.pk, c.full_name) for c in candidates.filter(pk__in=ids) if ids
            ] if ids else []  # fmt: skip

    def member_rows(self):
        return [(m, self[f"member_{m.pk}"]) for m in self.members]

    def statuses(self) -> dict[int, str]:
        return {m.pk: self.cleaned_data[f"member_{m.pk}"] for m in self.members}
