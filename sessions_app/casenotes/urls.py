"""URLs of the case-note pages (included by sessions_app/urls.py). Ids only, never content."""

from django.urls import path

from sessions_app.casenotes import views as v

P = "programs/<slug:slug>/"

urlpatterns = [
    path(P + "presentations/<int:pk>/case-note/", v.case_note_edit, name="case_note_edit"),
    path(P + "case-notes/", v.case_note_list, name="case_note_list"),
    path(P + "case-notes/<int:pk>/", v.case_note_detail, name="case_note_detail"),
    path(P + "case-notes/<int:pk>/delete/", v.case_note_delete, name="case_note_delete"),
    path(P + "case-notes/<int:pk>/access/", v.case_note_access, name="case_note_access"),
    path(P + "confidentiality/", v.confidentiality_agreement, name="confidentiality_agreement"),
]
