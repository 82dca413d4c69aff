"""The phone-first log, mounted at /outreach/log/ (namespace ``outreach``)."""

from django.urls import path

from outreach import views_log as views

urlpatterns = [
    path("", views.log_home, name="log-home"),
    path("visit/", views.log_visit, name="log-visit"),
    path("meeting/", views.log_meeting, name="log-meeting"),
    path("households/", views.log_households, name="log-households"),
    path("done/<str:kind>/<int:pk>/", views.log_done, name="log-done"),
]
