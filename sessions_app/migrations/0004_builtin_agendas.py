"""The two built-in agendas: "CCDG 60 minutes" and "Balint 90 minutes"."""

from django.db import migrations

from sessions_app.schedule.agenda_builtins import ensure_builtin_agendas


def create(apps, schema_editor):
    ensure_builtin_agendas(
        apps.get_model("sessions_app", "AgendaTemplate"),
        apps.get_model("sessions_app", "AgendaSegment"),
    )


def remove(apps, schema_editor):
    apps.get_model("sessions_app", "AgendaTemplate").objects.filter(built_in=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0003_sessions_schedule")]
    operations = [migrations.RunPython(create, remove)]
