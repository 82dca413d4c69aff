"""Partner merchants and service agreements, and their import; mounted at
/services/merchants/."""

from django.urls import path

from services import views_import
from services import views_merchants as views

urlpatterns = [
    path("", views.merchant_list, name="merchant-list"),
    path("new/", views.merchant_create, name="merchant-create"),
    path("export/", views.merchant_export, name="merchant-export"),
    path("<int:pk>/", views.merchant_detail, name="merchant-detail"),
    path("<int:pk>/edit/", views.merchant_edit, name="merchant-edit"),
    path("<int:pk>/archive/", views.merchant_archive, name="merchant-archive"),
    path("<int:pk>/restore/", views.merchant_restore, name="merchant-restore"),
    path("agreements/", views.agreement_list, name="agreement-list"),
    path("agreements/renewals/", views.agreement_renewals, name="agreement-renewals"),
    path("agreements/new/", views.agreement_create, name="agreement-create"),
    path("agreements/export/", views.agreement_export, name="agreement-export"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement-detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement-edit"),
    path("agreements/<int:pk>/renew/", views.agreement_renew, name="agreement-renew"),
    path("agreements/<int:pk>/document/", views.agreement_document, name="agreement-document"),
    path("agreements/<int:pk>/archive/", views.agreement_archive, name="agreement-archive"),
    path("agreements/<int:pk>/restore/", views.agreement_restore, name="agreement-restore"),
    # import (django-import-export): template, upload and preview, confirm, cancel
    path("import/", views_import.merchant_import, name="merchant-import"),
    path("import/template/", views_import.merchant_template, name="merchant-import-template"),
    path("import/confirm/", views_import.merchant_confirm, name="merchant-import-confirm"),
    path("import/cancel/", views_import.merchant_cancel, name="merchant-import-cancel"),
    path("agreements/import/", views_import.agreement_import, name="agreement-import"),
    path(
        "agreements/import/template/",
        views_import.agreement_template,
        name="agreement-import-template",
    ),
    path(
        "agreements/import/confirm/",
        views_import.agreement_confirm,
        name="agreement-import-confirm",
    ),
    path(
        "agreements/import/cancel/",
        views_import.agreement_cancel,
        name="agreement-import-cancel",
    ),
]
