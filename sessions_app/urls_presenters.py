"""URLs of the presenters pages (included by sessions_app/urls.py)."""

urlpatterns: list = []
