"""Two-way service surveys (双向服务意向调查表), mounted at /services/surveys/."""

from django.urls import path

from services import views_survey as views

urlpatterns = [
    path("", views.survey_list, name="survey-list"),
    path("new/", views.survey_create, name="survey-create"),
    path("export/", views.survey_export, name="survey-export"),
    path("summary/", views.survey_summary_page, name="survey-summary"),
    path("<int:pk>/", views.survey_detail, name="survey-detail"),
    path("<int:pk>/edit/", views.survey_edit, name="survey-edit"),
    path("<int:pk>/archive/", views.survey_archive, name="survey-archive"),
    path("<int:pk>/restore/", views.survey_restore, name="survey-restore"),
]
