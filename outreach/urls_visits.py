"""Visits (走访), mounted at /outreach/visits/ in the "outreach" namespace."""

from django.urls import path

from outreach import views_visits as views

urlpatterns = [
    path("", views.visit_list, name="visit-list"),
    path("new/", views.visit_create, name="visit-create"),
    path("export/", views.visit_export, name="visit-export"),
    path("<int:pk>/", views.visit_detail, name="visit-detail"),
    path("<int:pk>/edit/", views.visit_edit, name="visit-edit"),
    path("<int:pk>/archive/", views.visit_archive, name="visit-archive"),
    path("<int:pk>/restore/", views.visit_restore, name="visit-restore"),
    path("follow-ups/", views.followup_list, name="followup-list"),
    path("follow-ups/<int:pk>/", views.followup_update, name="followup-update"),
]
