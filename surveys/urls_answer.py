"""The respondent's pages, reached through a single-use link (namespace ``survey_answer``)."""

from django.urls import path

from . import views_answer

app_name = "survey_answer"

# "thanks" comes first: it is not a token (tokens are 40 hexadecimal characters), and any other
# string, hexadecimal or not, reaches the answer view and its one "link can't be used" page.
# The e-mailed address ``s/<token>/`` trades its token for a cookie and redirects to the
# wave's ``survey/<program>/<wave>/``, where the survey is answered.
urlpatterns: list = [
    path("s/thanks/", views_answer.thanks, name="thanks"),
    path("s/<str:token>/", views_answer.answer, name="answer"),
    path("survey/<slug:slug>/<slug:wave>/", views_answer.page, name="page"),
]
