from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "ccdg.accounts.oidc"
    label = "ccdg_oidc"
    verbose_name = "Single sign-on (OpenID Connect)"
