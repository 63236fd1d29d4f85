"""Forms of the agenda pages. They parse and check the typing; the rules of an agenda
(first segment at 0:00, in order, inside the duration) are the service's."""

from __future__ import annotations

from typing import Any

from django import forms

from ccdg import phi
from sessions_app.agenda.models import AgendaTemplate
from sessions_app.agenda.services import MAX_TAKE_HOME_POINTS, TAKE_HOME_MAX_CHARS, offset_parse
from sessions_app.programs.models import Program

EXTRA_ROWS = 3


class AgendaTemplateForm(forms.Form):
    name = forms.CharField(max_length=100)
    duration_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=10, max_value=240, initial=60
    )

    def __init__(self, *args, program: Program, template: AgendaTemplate | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program
        self.template = template

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = AgendaTemplate.objects.filter(program=self.program, name=name)
        if self.template is not None:
            others = others.exclude(pk=self.template.pk)
        if others.exists():
            raise forms.ValidationError("The program already has an agenda with this name.")
        return name


class SegmentForm(forms.Form):
    start = forms.CharField(
        label="Starts at",
        max_length=12,
        required=False,
        help_text="Minutes from the start: 15 or 0:15.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "0:15"}),
    )
    title = forms.CharField(max_length=120, required=False)
    guidance = forms.CharField(
        label="Facilitator guidance",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, title = data.get("start", ""), data.get("title", "")
        if not start and not title and not data.get("guidance"):
            data["empty"] = True
            return data
        data["empty"] = False
        if "start" in self.errors:
            pass
        elif not start:
            self.add_error("start", "When does this segment start? For example 0:15.")
        else:
            try:
                data["start_minute"] = offset_parse(start)
            except ValueError:
                self.add_error(
                    "start", f"“{start}” is not a time: type minutes (15) or h:mm (0:15)."
                )
        if not title:
            self.add_error("title", "Give the segment a title.")
        return data


class BaseSegmentFormSet(forms.BaseFormSet):
    def segments(self) -> list[dict[str, Any]]:
        """The filled rows, in the order typed (blank rows are left out)."""
        return [
            {
                "start_minute": f.cleaned_data["start_minute"],
                "title": f.cleaned_data["title"],
                "guidance": f.cleaned_data.get("guidance", ""),
            }
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("empty")
        ]


SegmentFormSet = forms.formset_factory(
    SegmentForm, formset=BaseSegmentFormSet, extra=EXTRA_ROWS, max_num=40, validate_max=True
)


class TakeHomeForm(forms.Form):
    points = forms.CharField(
        label="Take-home points",
        required=False,
        widget=forms.Textarea(attrs={"rows": MAX_TAKE_HOME_POINTS + 1}),
        help_text=(
            f"One point per line, up to {MAX_TAKE_HOME_POINTS}, each at most "
            f"{TAKE_HOME_MAX_CHARS} characters. {phi.RULE}"
        ),
    )

    def lines(self) -> list[str]:
        return [line for line in self.cleaned_data["points"].splitlines() if line.strip()]
