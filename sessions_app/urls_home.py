"""The signed-in home page: outside the app's namespace, so ``{% url 'home' %}`` stays short."""

from django.urls import path

from .views_home import home

urlpatterns = [path("", home, name="home")]
