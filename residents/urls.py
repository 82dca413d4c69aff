"""URLs of the register. Pages, import and casework keep their routes in their own modules."""

from django.urls import include, path

from residents.views_anonymise import anonymise_departed

app_name = "residents"

urlpatterns = [
    path("anonymise/", anonymise_departed, name="anonymise"),
    path("", include("residents.urls_registry")),
    path("import/", include("residents.urls_import")),
    path("casework/", include("residents.urls_casework")),
]
