"""URLs of the agenda pages (included by sessions_app/urls.py)."""

urlpatterns: list = []
