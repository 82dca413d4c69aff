"""Pairings (结对), mounted at /outreach/pairings/ (namespace ``outreach``)."""

from django.urls import path

from outreach import views_pairings as views

urlpatterns = [
    path("", views.pairing_list, name="pairing-list"),
    path("new/", views.pairing_create, name="pairing-create"),
    path("export/", views.pairing_export, name="pairing-export"),
    path("handover/", views.pairing_handover_list, name="pairing-handover-list"),
    path("<int:pk>/", views.pairing_detail, name="pairing-detail"),
    path("<int:pk>/edit/", views.pairing_edit, name="pairing-edit"),
    path("<int:pk>/end/", views.pairing_end, name="pairing-end"),
    path("<int:pk>/archive/", views.pairing_archive, name="pairing-archive"),
    path("<int:pk>/restore/", views.pairing_restore, name="pairing-restore"),
    path("<int:pk>/handover/", views.pairing_handover, name="pairing-handover"),
]
