"""Online and hybrid sessions: a session's mode and meeting link."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0011_session_theme_two_case_agenda"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="meeting_url",
            field=models.URLField(
                blank=True,
                help_text="Online and hybrid sessions: the meeting link (https). Shown only to those who see the session (its group's members and facilitators, the coordinator), in their reminders and calendars; never in exports.",
                max_length=500,
            ),
        ),
        migrations.AddField(
            model_name="session",
            name="mode",
            field=models.CharField(
                choices=[
                    ("in_person", "In person"),
                    ("online", "Online"),
                    ("hybrid", "Hybrid: in the room and online"),
                ],
                default="in_person",
                max_length=10,
            ),
        ),
    ]
