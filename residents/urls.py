"""URLs of the register. Pages, import and casework keep their routes in their own modules."""

from django.urls import include, path

app_name = "residents"

urlpatterns = [
    path("", include("residents.urls_registry")),
    path("import/", include("residents.urls_import")),
    path("casework/", include("residents.urls_casework")),
]
