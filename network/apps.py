from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    default = True
    name = "network"
    verbose_name = _("Network")

    def ready(self):
        from django.db.models.signals import pre_delete, pre_save
        from simple_history.signals import post_create_historical_record

        from network import audit, audit_history
        from network.models import AuditEvent

        # Every historical record of casework becomes an audit event (network.audit_history).
        post_create_historical_record.connect(
            audit_history.on_historical_record, dispatch_uid="network.audit_history"
        )
        # Audit events are written once, never changed or deleted (purge_audit aside).
        pre_save.connect(audit.guard_before_save, sender=AuditEvent, dispatch_uid="audit.save")
        pre_delete.connect(
            audit.guard_before_delete, sender=AuditEvent, dispatch_uid="audit.delete"
        )
        from network import signin  # noqa: F401  sign-in receivers: audit, idle timer


class TongxinAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "network.admin_site.TongxinAdminSite"
