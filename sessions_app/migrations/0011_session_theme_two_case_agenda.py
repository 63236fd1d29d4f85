"""A session's optional theme, and the built-in agenda "CCDG 60 minutes, two cases"."""

from django.db import migrations, models

from sessions_app.schedule.agenda_builtins import TWO_CASES, ensure_builtin_agendas


def create(apps, schema_editor):
    ensure_builtin_agendas(
        apps.get_model("sessions_app", "AgendaTemplate"),
        apps.get_model("sessions_app", "AgendaSegment"),
    )


def remove(apps, schema_editor):
    templates = apps.get_model("sessions_app", "AgendaTemplate").objects
    templates.filter(built_in=True, program__isnull=True, name=TWO_CASES).delete()


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0010_invitation_role")]

    operations = [
        migrations.AddField(
            model_name="session",
            name="theme",
            field=models.CharField(
                blank=True,
                help_text="An optional preselected topic, for example “Patients who do not "
                "follow advice”; shown on the agenda and in the reminders.",
                max_length=120,
            ),
        ),
        migrations.RunPython(create, remove),
    ]
