"""The register's pages (namespace ``residents``; the names are used by the benchmark)."""

from django.urls import path

from residents import views

urlpatterns = [
    path("", views.person_list, name="person-list"),
    path("export/", views.person_export, name="person-export"),
    path("print/", views.register_print, name="register-print"),
    path("households/new/", views.household_create, name="household-create"),
    path("households/<int:pk>/", views.household_detail, name="household-detail"),
    path("households/<int:pk>/timeline/", views.household_timeline, name="household-timeline"),
    path("households/<int:pk>/edit/", views.household_update, name="household-update"),
    path("households/<int:pk>/move/", views.household_move, name="household-move"),
    path("households/<int:pk>/archive/", views.household_archive, name="household-archive"),
    path("households/<int:pk>/restore/", views.household_restore, name="household-restore"),
    path("persons/<int:pk>/archive/", views.person_archive, name="person-archive"),
    path("persons/<int:pk>/restore/", views.person_restore, name="person-restore"),
    path("persons/<int:pk>/reveal-id/", views.person_reveal_id, name="person-reveal-id"),
]
