"""Reports generated from the bureau's definitions, their steps up the hierarchy and their
frozen records; mounted at /reports/reports/."""

from django.urls import path

from reports import views_reports as views

urlpatterns = [
    path("", views.report_list, name="report-list"),
    path("generate/", views.report_generate, name="report-generate"),
    path("<int:pk>/", views.report_detail, name="report-detail"),
    path("<int:pk>/narrative/", views.report_edit, name="report-edit"),
    path("<int:pk>/records/<slug:key>/", views.report_records, name="report-records"),
    path("<int:pk>/<slug:action>/", views.report_action, name="report-action"),
]
