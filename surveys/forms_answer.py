"""One answering page (one section of the instrument): reading what the respondent sent,
checking it with the same rules as every other way a response arrives
(:func:`surveys.responses.answer_error`), and warning about patient identifiers in free text.

The identifier guard only warns here: a respondent may mention a patient, and may keep the
answer as written after the warning. Free text is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.views.decorators.debug import sensitive_variables

from ccdg import phi

from . import linking
from .responses import FREE_TEXT_MAX, GROUP_LABEL_MAX, QuestionSpec, answer_error, choices_for

KEEP_FIELD = "keep_as_written"
SCALE_TYPES = ("agreement5", "rating5", "challenge4", "yes_no")


@dataclass
class QuestionRow:
    """What the page template needs to draw one question."""

    spec: QuestionSpec
    number: int
    choices: tuple[tuple[str, str], ...]
    value: str = ""
    error: str = ""
    findings: list[dict] = field(default_factory=list)
    segments: list[dict] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def kind(self) -> str:
        """``choice`` (radio buttons), ``text`` (a text area) or ``short`` (a line of text: the
        group question of a program without groups)."""
        if self.spec.is_text:
            return "text"
        return "choice" if self.choices else "short"

    @property
    def is_scale(self) -> bool:
        return self.spec.type in SCALE_TYPES

    @property
    def is_code_part(self) -> bool:
        """A part of the personal code (surveys.linking), not a question of the survey."""
        return self.spec.type == linking.PART_TYPE

    @property
    def hint(self) -> str:
        """What a part of the personal code looks like ("One letter, A to Z.")."""
        if not self.is_code_part:
            return ""
        component = linking.COMPONENTS.get(self.code.removeprefix(linking.PART_PREFIX))
        return component.hint if component else ""

    @property
    def maxlength(self) -> int:
        if self.is_code_part:
            return 4
        return FREE_TEXT_MAX if self.spec.is_text else GROUP_LABEL_MAX


def tampered_message(problem: str) -> str:
    return f"This answer could not be kept: {problem}. Choose one of the answers shown."


class SectionForm:
    """The questions of one section, filled from the draft (a GET) or from a POST.

    ``saved`` is the draft as stored: free text equal to what is already saved was accepted
    before (it passed the guard, or the respondent kept it as written), so it is not flagged
    again when the page is sent once more.
    """

    def __init__(
        self,
        specs: list[QuestionSpec],
        *,
        group_labels: list[str] | None,
        first_number: int = 1,
        data=None,
        saved: dict[str, str] | None = None,
    ):
        self.specs = specs
        self.group_labels = group_labels
        self.data = data
        self.saved = saved or {}
        self.is_bound = data is not None
        self.keep_as_written = bool(data and data.get(KEEP_FIELD) == "1")
        self.rows = [
            QuestionRow(spec=s, number=first_number + i, choices=choices_for(s, group_labels))
            for i, s in enumerate(specs)
        ]
        source = data if data is not None else self.saved
        for row in self.rows:
            raw = source.get(row.code, "")
            row.value = raw if isinstance(raw, str) else str(raw)
            if not row.spec.is_text:
                row.value = row.value.strip()
        self.has_errors = False
        self.needs_keep = False

    @property
    def answers(self) -> dict[str, str]:
        """Every question of the page, blank when unanswered (blank clears a saved answer)."""
        return {row.code: row.value.strip() for row in self.rows}

    @sensitive_variables()
    def is_valid(self) -> bool:
        """Check the values; flag identifiers in free text unless the respondent keeps it."""
        if not self.is_bound:
            return False
        self.has_errors = self.needs_keep = False
        for row in self.rows:
            row.error, row.findings, row.segments = "", [], []
            value = row.value.strip() if row.spec.is_text else row.value
            problem = answer_error(row.spec, value, self.group_labels)
            if problem:
                row.error = (
                    f"{problem[:1].upper()}{problem[1:]}."
                    if row.is_code_part
                    else tampered_message(problem)
                )
                if row.kind == "choice":
                    # A value not offered cannot be shown as chosen: the question is blank.
                    row.value = ""
                self.has_errors = True
                continue
            if row.spec.is_text and value and value != self.saved.get(row.code):
                self._guard(row)
        if self.needs_keep and self.keep_as_written:
            self.needs_keep = False
        return not self.has_errors and not self.needs_keep

    def set_errors(self, errors: dict[str, str]) -> None:
        """Messages from the submission (a missing required answer) on this page's rows."""
        for row in self.rows:
            if row.code in errors:
                row.error = errors[row.code]
                self.has_errors = True

    @sensitive_variables()
    def _guard(self, row: QuestionRow) -> None:
        text = row.value
        findings = phi.scan(text)
        if not findings:
            return
        self.needs_keep = True
        refs = {f: f"guard-{row.code}-{i}" for i, f in enumerate(findings, start=1)}
        row.findings = [
            {
                "ref": refs[f],
                "text": f.text,
                "category": phi.CATEGORIES[f.category],
                "reason": f.reason,
            }
            for f in findings
        ]
        row.segments = [
            {"text": segment, "finding": finding, "ref": refs.get(finding) if finding else None}
            for segment, finding in phi.highlight(text, findings)
        ]
