from django.urls import path

from network import views, views_audit

app_name = "network"

urlpatterns = [
    path("areas/", views.area_list, name="area-list"),
    path("areas/<int:pk>/", views.area_detail, name="area-detail"),
    path("liaison-groups/new/", views.liaison_group_create, name="liaisongroup-create"),
    path("liaison-groups/<int:pk>/edit/", views.liaison_group_update, name="liaisongroup-update"),
    path("accounts/", views.user_list, name="user-list"),
    path("accounts/new/", views.user_create, name="user-create"),
    path("accounts/import/", views.user_import, name="user-import"),
    path("accounts/<int:pk>/", views.user_detail, name="user-detail"),
    path("accounts/<int:pk>/edit/", views.user_update, name="user-update"),
    path("accounts/<int:user_pk>/posts/new/", views.post_create, name="post-create"),
    path("posts/<int:pk>/end/", views.post_end, name="post-end"),
    path("exports/", views.export_log, name="export-log"),
    path("audit/", views_audit.audit_log, name="audit-log"),
    path("audit/export/<str:file_format>/", views_audit.audit_export, name="audit-export"),
]
