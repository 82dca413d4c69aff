"""Meetings and activities, mounted at /outreach/meetings/ (namespace "outreach")."""

from django.urls import path

from outreach import views_meetings as views

urlpatterns = [
    path("", views.meeting_list_view, name="meeting-list"),
    path("new/", views.meeting_create, name="meeting-create"),
    path("export/", views.meeting_export, name="meeting-export"),
    path("<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("<int:pk>/edit/", views.meeting_edit, name="meeting-edit"),
    path("<int:pk>/archive/", views.meeting_archive, name="meeting-archive"),
    path("<int:pk>/restore/", views.meeting_restore, name="meeting-restore"),
]
