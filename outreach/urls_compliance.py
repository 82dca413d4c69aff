"""Compliance pages, mounted at /outreach/compliance/ (namespace ``outreach``)."""

from django.urls import path

from outreach import views_compliance as views

urlpatterns = [
    path("", views.compliance_report, name="compliance"),
    path("households/", views.compliance_households, name="compliance-households"),
    path("meetings/", views.compliance_meetings, name="compliance-meetings"),
    path("festival-visits/", views.festival_visits, name="festival-visits"),
]
