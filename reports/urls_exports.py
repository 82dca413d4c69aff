"""Exports of period summaries and reports (xlsx, csv, docx) and their print pages; mounted
at /reports/exports/."""

from django.urls import path

from reports import views_exports as views

urlpatterns = [
    path("summary/", views.summary_export, name="summary-export"),
    path("summary/print/", views.summary_print, name="summary-print"),
    path("report/<int:pk>/", views.report_export, name="report-export"),
    path("report/<int:pk>/print/", views.report_print, name="report-print"),
]
