"""Data-quality checks and budgets; mounted at /reports/quality/."""

from django.urls import path

from reports import views_quality as views

urlpatterns = [
    path("", views.quality, name="quality"),
    path("budgets/", views.budget_list, name="budget-list"),
    path("budgets/<int:area_pk>/<int:year>/", views.budget_edit, name="budget-edit"),
]
