"""Consultations (来访、热线、接待窗口), mounted at /outreach/consultations/."""

from django.urls import path

from outreach import views_consultations as views

urlpatterns = [
    path("", views.consultation_list, name="consultation-list"),
    path("new/", views.consultation_create, name="consultation-create"),
    path("export/", views.consultation_export, name="consultation-export"),
    path("<int:pk>/", views.consultation_detail, name="consultation-detail"),
    path("<int:pk>/edit/", views.consultation_edit, name="consultation-edit"),
    path("<int:pk>/archive/", views.consultation_archive, name="consultation-archive"),
    path("<int:pk>/restore/", views.consultation_restore, name="consultation-restore"),
]
