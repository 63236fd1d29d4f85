"""Coordinator and report-viewer pages of the surveys (namespace ``surveys``)."""


app_name = "surveys"

urlpatterns: list = []
