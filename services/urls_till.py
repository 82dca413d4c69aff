"""A partner merchant's till (its own login), and the staff page of its till logins
(mounted at /services/till/)."""

from django.urls import path

from services import views_till

urlpatterns = [
    path("", views_till.till_home, name="till"),
    path("card/", views_till.till_card, name="till-card"),
    path("confirm/", views_till.till_confirm, name="till-confirm"),
    path("settlement/", views_till.till_settlement, name="till-settlement"),
    path("accounts/<int:merchant_pk>/", views_till.merchant_accounts, name="merchant-accounts"),
    path(
        "accounts/<int:merchant_pk>/<int:pk>/switch/",
        views_till.merchant_account_switch,
        name="merchant-account-switch",
    ),
]
