"""The respondent's pages, reached through a single-use link (namespace ``survey_answer``)."""


app_name = "survey_answer"

urlpatterns: list = []
