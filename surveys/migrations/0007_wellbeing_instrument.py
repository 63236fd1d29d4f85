"""The built-in "CCDG participant survey with wellbeing module" (slug
ccdg-participant-wellbeing, version 1, published)."""

from django.db import migrations

from surveys.builtin import VERSION, WELLBEING_SLUG, ensure_wellbeing_instrument


def create(apps, schema_editor):
    ensure_wellbeing_instrument(
        apps.get_model("surveys", "Instrument"),
        apps.get_model("surveys", "Section"),
        apps.get_model("surveys", "Question"),
        apps.get_model("surveys", "Choice"),
    )


def remove(apps, schema_editor):
    instruments = apps.get_model("surveys", "Instrument").objects
    instruments.filter(slug=WELLBEING_SLUG, version=VERSION).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0006_wave_series_and_link_codes")]
    operations = [migrations.RunPython(create, remove)]
