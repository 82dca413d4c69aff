"""Consents and service cards, mounted at /services/cards/. ``v/<token>/`` is the public
page the printed QR code opens."""

from django.urls import path

from services import views_cards as views

urlpatterns = [
    path("", views.card_list, name="card-list"),
    path("issue/", views.card_issue, name="card-issue"),
    path("export/", views.card_export, name="card-export"),
    path("print/", views.card_print_sheet, name="card-print-sheet"),
    path("<int:pk>/", views.card_detail, name="card-detail"),
    path("<int:pk>/print/", views.card_print, name="card-print"),
    path("<int:pk>/lost/", views.card_reissue, name="card-reissue"),
    path("<int:pk>/revoke/", views.card_revoke, name="card-revoke"),
    path("v/<str:token>/", views.card_verify, name="card-verify"),
    path("consents/", views.consent_list, name="consent-list"),
    path("consents/person/<int:pk>/", views.consent_person, name="consent-person"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent-withdraw"),
]
