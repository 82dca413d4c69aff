"""Ledger import (居民台账导入): template, upload and preview, confirm, cancel."""

from django.urls import path

from residents import views_import

urlpatterns = [
    path("", views_import.ledger_import, name="ledger-import"),
    path("template/", views_import.ledger_template_download, name="ledger-template"),
    path("confirm/", views_import.ledger_import_confirm, name="ledger-import-confirm"),
    path("cancel/", views_import.ledger_import_cancel, name="ledger-import-cancel"),
]
