"""python manage.py assign_groups PROGRAM_SLUG --groups K [--min 8] [--max 12] [--seed N]
[--target-size S] [--newcomers | --rebalance] [--commit [--confirm-moves]] [--json]"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sessions_app.groups import services as groups_services
from sessions_app.groups.models import AssignmentRun
from sessions_app.groups.solver.assignment import Infeasible
from sessions_app.programs.models import Program


class Command(BaseCommand):
    help = (
        "Assign the program's active participants to balanced groups. Without --commit "
        "nothing is saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("program_slug")
        parser.add_argument("--groups", type=int, help="Number of groups.")
        parser.add_argument("--target-size", type=int, help="Derive the number of groups.")
        parser.add_argument("--min", type=int, default=8, dest="min_size")
        parser.add_argument("--max", type=int, default=12, dest="max_size")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--newcomers",
            action="store_true",
            help="Add people without a group to the current groups; nobody else moves.",
        )
        parser.add_argument(
            "--rebalance",
            action="store_true",
            help="Fresh assignment that rebalances freely instead of keeping people in their "
            "current groups as far as possible.",
        )
        parser.add_argument("--commit", action="store_true", help="Make the result the groups.")
        parser.add_argument(
            "--confirm-moves",
            action="store_true",
            help="Needed with --commit to move people once sessions have been held: confirms "
            "the moves the command lists.",
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the result as JSON."
        )

    def handle(
        self,
        *args,
        program_slug,
        groups,
        target_size,
        min_size,
        max_size,
        seed,
        newcomers,
        rebalance,
        commit,
        confirm_moves,
        as_json,
        **options,
    ):
        try:
            program = Program.objects.get(slug=program_slug)
        except Program.DoesNotExist:
            raise CommandError(f"No program with slug “{program_slug}”.") from None
        if not newcomers and not groups and not target_size:
            raise CommandError("Give --groups K or --target-size S (or --newcomers).")
        if min_size > max_size:
            raise CommandError(f"--min {min_size} is larger than --max {max_size}.")
        if newcomers and rebalance:
            raise CommandError("--rebalance is for a fresh assignment, not with --newcomers.")
        request = groups_services.AssignmentRequest(
            groups=groups,
            target_size=target_size,
            min_size=min_size,
            max_size=max_size,
            seed=seed,
            mode=AssignmentRun.Mode.ADD_NEWCOMERS if newcomers else AssignmentRun.Mode.FRESH,
            keep_current=not rebalance,
        )
        result = groups_services.assignment_preview(
            program=program, actor=None, request=request, save=commit
        )
        if isinstance(result, Infeasible):
            for problem in result.problems:
                self.stderr.write(problem)
            raise CommandError("No assignment is possible; nothing was saved.")
        view = groups_services.assignment_run_view(run=result)
        committed = None
        if commit:
            try:
                committed = groups_services.assignment_commit(
                    run=result,
                    actor=None,
                    confirmed_moves=[c.clinician.pk for c in view.changes]
                    if confirm_moves
                    else None,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        if as_json:
            self.stdout.write(_json(view, committed))
        else:
            self._text(view, committed)

    def _text(self, view, committed) -> None:
        for group in view.groups:
            self.stdout.write(f"{group['name']} ({len(group['members'])} people)")
            for what, text in group["mix"]:
                self.stdout.write(f"  {what}: {text}")
        self.stdout.write(
            f"Score {view.score} (lower is better)"
            + (", optimal." if view.run.result["optimal"] else ".")
        )
        for line in view.unmet:
            self.stdout.write(f"Not met: {line}")
        count = len(view.changes)
        self.stdout.write(f"{count} {'person changes' if count == 1 else 'people change'} group.")
        for line in view.forced:
            self.stdout.write(f"Had to move: {line}")
        for change in view.changes:
            self.stdout.write(
                f"  {change.clinician.full_name}: {change.from_name} -> {change.to_name}"
            )
        if committed is None:
            self.stdout.write("Nothing was saved (add --commit to make these the groups).")
        else:
            self.stdout.write(
                f"Committed: {committed['joined']} joined, {committed['moved']} moved."
            )


def _json(view, committed) -> str:
    return json.dumps(
        {
            "run": view.run.pk,
            "committed": committed is not None,
            "score": view.score,
            "best_bound": view.run.result["best_bound"],
            "optimal": view.run.result["optimal"],
            "groups": [
                {
                    "key": g["key"],
                    "name": g["name"],
                    "members": [c.pk for c in g["members"]],
                    "composition": {
                        "size": len(g["members"]),
                        "disciplines": g["composition"].disciplines,
                        "genders": g["composition"].genders,
                        "experience": g["composition"].experience,
                    },
                }
                for g in view.groups
            ],
            "unmet": view.unmet,
            "changes": [
                {"clinician": c.clinician.pk, "from": c.from_name, "to": c.to_name}
                for c in view.changes
            ],
        },
        indent=2,
    )
