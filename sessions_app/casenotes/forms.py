"""The case-note form. It parses what the presenter typed and runs the identifier guard on the
name and every free-text field, keeping the findings so that the page can highlight each span;
the rules themselves live in :mod:`sessions_app.casenotes.services`."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from ccdg import phi
from ccdg.identifier_check import explain
from sessions_app.casenotes import selectors, services
from sessions_app.casenotes.models import CaseNote
from sessions_app.roster.models import Gender

TEXT_LABELS = {
    "difficulty": "Why this case is difficult for me",
    "relationship": "The relationship",
    "wish": "What I would like from the group",
}
TEXT_HELP = {
    "difficulty": "What makes this patient or situation hard for you.",
    "relationship": "How you and the patient (and family, colleagues) relate to each other.",
    "wish": "A question for the group, or what kind of help you hope for.",
}


def _textarea(rows: int = 5) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "maxlength": settings.CASE_NOTE_MAX_CHARS})


class CaseNoteForm(forms.Form):
    patient_age = forms.IntegerField(
        label="Age in years",
        required=False,
        min_value=0,
        max_value=130,
        help_text="90 or older: it is kept as 90 and shown as “90+”.",
    )
    patient_gender = forms.ChoiceField(
        label="Gender", required=False, choices=[("", "Not given"), *Gender.choices]
    )
    patient_name = forms.CharField(
        label="First name or initials",
        required=False,
        help_text="One first name or initials only (“Ana”, “J. D.”); never a last name.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 60}),
    )
    difficulty = forms.CharField(
        label=TEXT_LABELS["difficulty"], required=False, widget=_textarea()
    )
    relationship = forms.CharField(
        label=TEXT_LABELS["relationship"], required=False, widget=_textarea()
    )
    wish = forms.CharField(label=TEXT_LABELS["wish"], required=False, widget=_textarea(3))
    visibility = forms.ChoiceField(
        label="Who may read it",
        choices=CaseNote.Visibility.choices,
        initial=CaseNote.Visibility.FACILITATORS,
        widget=forms.RadioSelect,
        help_text="“The whole group” means its members, only while the session is on (from its "
        "start until 15 minutes after its end); facilitators may read it before.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Field name -> (the text scanned, what the guard found in it).
        self.findings: dict[str, tuple[str, list[phi.Finding]]] = {}
        for name, text in TEXT_HELP.items():
            self.fields[name].help_text = text

    @sensitive_variables()
    def _guard(self, name: str) -> str:
        text = self.cleaned_data.get(name) or ""
        if message := services.too_long_message(text):
            raise forms.ValidationError(message, code="too_long")
        errors = []
        if name == "patient_name" and (shape := services.name_token_problem(text)):
            errors.append(forms.ValidationError(shape, code="name_shape"))
        findings = services.guard_findings(name, text)
        if findings:
            self.findings[name] = (text, findings)
            count = len(findings)
            errors.append(
                forms.ValidationError(
                    f"The identifier guard found {count} patient identifier"
                    f"{'s' if count > 1 else ''} that the program does not allow: they are "
                    f"marked below. {phi.RULE} Rewrite them and save again.",
                    code="identifier",
                )
            )
        if errors:
            raise forms.ValidationError(errors)
        return text

    def clean_patient_name(self) -> str:
        return self._guard("patient_name")

    def clean_difficulty(self) -> str:
        return self._guard("difficulty")

    def clean_relationship(self) -> str:
        return self._guard("relationship")

    def clean_wish(self) -> str:
        return self._guard("wish")

    def clean(self):
        data = super().clean()
        if not self.errors and not any((data.get(n) or "").strip() for n in selectors.TEXT_FIELDS):
            self.add_error("difficulty", "Write at least one of the three parts of the note.")
        return data

    def note_input(self) -> services.CaseNoteInput:
        data = self.cleaned_data
        return services.CaseNoteInput(
            patient_age=data["patient_age"],
            patient_gender=data["patient_gender"],
            patient_name=data["patient_name"],
            difficulty=data["difficulty"],
            relationship=data["relationship"],
            wish=data["wish"],
            visibility=data["visibility"],
        )

    def guarded_rows(self) -> list[dict]:
        """The guarded fields with, where the guard found something, the typed text cut into
        segments: ``{"text", "finding", "ref"}``, ``ref`` the id of the reason in the list."""
        rows = []
        for name in selectors.GUARDED_FIELDS:
            text, findings = self.findings.get(name, ("", []))
            explained = explain(text, findings, ref_prefix=f"guard-{name}")
            rows.append(
                {
                    "field": self[name],
                    "findings": explained.findings,
                    "segments": explained.segments,
                }
            )
        return rows
