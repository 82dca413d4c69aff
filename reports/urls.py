from django.urls import include, path

from reports import urls_exports, urls_quality, urls_reports, urls_summary

app_name = "reports"

urlpatterns = [
    path("summary/", include(urls_summary)),
    path("exports/", include(urls_exports)),
    path("reports/", include(urls_reports)),
    path("quality/", include(urls_quality)),
]
