"""The built-in "CCDG participant survey" (slug ccdg-participant, version 1, published)."""

from django.db import migrations

from surveys.builtin import SLUG, VERSION, ensure_builtin_instrument


def create(apps, schema_editor):
    ensure_builtin_instrument(
        apps.get_model("surveys", "Instrument"),
        apps.get_model("surveys", "Section"),
        apps.get_model("surveys", "Question"),
        apps.get_model("surveys", "Choice"),
    )


def remove(apps, schema_editor):
    apps.get_model("surveys", "Instrument").objects.filter(slug=SLUG, version=VERSION).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
