"""Card uses at the desk and the merchants' settlements (mounted at /services/uses/)."""

from django.urls import path

from services import views_uses

urlpatterns = [
    path("", views_uses.use_list, name="use-list"),
    path("new/", views_uses.use_create, name="use-create"),
    path("export/", views_uses.use_export, name="use-export"),
    path("<int:pk>/", views_uses.use_detail, name="use-detail"),
    path("<int:pk>/void/", views_uses.use_void, name="use-void"),
    path("<int:pk>/restore/", views_uses.use_restore, name="use-restore"),
    path("settlement/", views_uses.settlement_choose, name="settlement-choose"),
    path("settlement/<int:merchant_pk>/", views_uses.settlement_view, name="settlement"),
    path(
        "settlement/<int:merchant_pk>/export/",
        views_uses.settlement_export,
        name="settlement-export",
    ),
]
