"""The signed-in home page: outside the app's namespace, so ``{% url 'home' %}`` stays short."""

from django.urls import path

from sessions_app.home.views import home

urlpatterns = [path("", home, name="home")]
