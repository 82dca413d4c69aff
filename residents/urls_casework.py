"""Casework of the register: duplicates, residence permits, handovers, dibao supplement."""

from django.urls import path

from residents import views_casework as views

urlpatterns = [
    path("duplicates/", views.duplicate_list, name="duplicate-list"),
    path("persons/<int:first>/merge/<int:second>/", views.person_merge, name="person-merge"),
    path(
        "households/<int:first>/merge/<int:second>/",
        views.household_merge,
        name="household-merge",
    ),
    path("permits/", views.permit_list, name="permit-list"),
    path("handovers/", views.handover_list, name="handover-list"),
    path("handovers/send/<int:pk>/", views.handover_send, name="handover-send"),
    path("handovers/<int:pk>/cancel/", views.handover_cancel, name="handover-cancel"),
    path("handovers/<int:pk>/accept/", views.handover_accept, name="handover-accept"),
    path("handovers/<int:pk>/decline/", views.handover_decline, name="handover-decline"),
    path("dibao/standards/", views.dibao_standard_list, name="dibao-standard-list"),
    path("dibao/standards/new/", views.dibao_standard_create, name="dibao-standard-create"),
    path(
        "dibao/standards/<int:pk>/edit/",
        views.dibao_standard_update,
        name="dibao-standard-update",
    ),
    path("dibao/roster/", views.dibao_roster, name="dibao-roster"),
    path("dibao/roster.xlsx", views.dibao_roster_xlsx, name="dibao-roster-xlsx"),
]
