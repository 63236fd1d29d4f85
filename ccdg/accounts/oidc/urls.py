from django.urls import path

from . import views

urlpatterns = [
    path("sso/<str:provider_id>/login/", views.login, name="ccdg_oidc_login"),
    path("sso/<str:provider_id>/login/callback/", views.callback, name="ccdg_oidc_callback"),
]
