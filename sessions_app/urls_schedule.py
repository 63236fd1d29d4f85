"""URLs of the schedule pages (included by sessions_app/urls.py)."""

urlpatterns: list = []
