from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models.base import ModelBase
from django.utils.translation import gettext_lazy as _

from network.access import may_use_admin

# Casework is archived, never deleted (issue 7 §3): no model of these apps can be deleted
# from the admin, whatever its ModelAdmin says — the register, outreach, services and
# reports, their reference tables included (records point at them).
NEVER_DELETED_APPS = frozenset({"residents", "outreach", "services", "reports"})


def never_deleted(model) -> bool:
    return model._meta.app_label in NEVER_DELETED_APPS


class NeverDeletedAdmin:
    """Mixed into every ModelAdmin of ``NEVER_DELETED_APPS`` by ``TongxinAdminSite.register``:
    no delete permission (so no delete view, no "delete selected" action, no delete link),
    no inline row deleted, and ``archived_at`` read-only — archiving and restoring happen in
    the app, through the operations that also archive a household's members."""

    def has_delete_permission(self, request, obj=None):
        return False

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            if never_deleted(inline.model):
                inline.can_delete = False
        return inlines

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        names = {f.name for f in self.model._meta.get_fields()}
        if "archived_at" in names and "archived_at" not in fields:
            fields.append("archived_at")
        return fields

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """django-simple-history's "revert to this version" saves the old record whole,
        archive mark included, past the operations: old versions may be looked at only."""
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class TongxinAdminSite(admin.AdminSite):
    site_header = _("Tongxin administration")
    site_title = _("Tongxin")

    def has_permission(self, request):
        """District bureau staff and superusers only, whatever is_staff says."""
        return may_use_admin(request.user)

    def register(self, model_or_iterable, admin_class=None, **options):
        """As AdminSite.register; a model of ``NEVER_DELETED_APPS`` gets its ModelAdmin with
        ``NeverDeletedAdmin`` mixed in — one rule, not a line in each ModelAdmin."""
        models = (
            [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        )
        for model in models:
            model_admin = admin_class or admin.ModelAdmin
            if never_deleted(model) and not issubclass(model_admin, NeverDeletedAdmin):
                model_admin = type(
                    model_admin.__name__,
                    (NeverDeletedAdmin, model_admin),
                    {"__module__": model_admin.__module__},
                )
            super().register(model, model_admin, **options)
