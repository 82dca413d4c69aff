"""URLs of outreach, mounted at /outreach/. Each part keeps its routes in its own module."""

from django.urls import include, path

from outreach.photos import photo_archive, photo_restore, photo_view

app_name = "outreach"

urlpatterns = [
    path("network/", include("outreach.urls_network")),
    path("pairings/", include("outreach.urls_pairings")),
    path("visits/", include("outreach.urls_visits")),
    path("meetings/", include("outreach.urls_meetings")),
    path("consultations/", include("outreach.urls_consultations")),
    path("compliance/", include("outreach.urls_compliance")),
    path("log/", include("outreach.urls_log")),
    path("photos/<int:pk>/", photo_view, name="photo"),
    path("photos/<int:pk>/archive/", photo_archive, name="photo-archive"),
    path("photos/<int:pk>/restore/", photo_restore, name="photo-restore"),
]
