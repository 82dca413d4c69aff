"""Period summaries, the records behind a figure, and the charts; mounted at
/reports/summary/."""

from django.urls import path

from reports import views_summary as views

urlpatterns = [
    path("", views.summary, name="summary"),
    path("records/<slug:key>/", views.figure_records, name="figure-records"),
    path("charts/<slug:name>.svg", views.chart, name="chart"),
]
