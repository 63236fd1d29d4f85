from django.apps import AppConfig


class CcdgConfig(AppConfig):
    name = "ccdg"
    verbose_name = "CCDG core"
