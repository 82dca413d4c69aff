from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from network.models import Area, AreaPopulation, AuditEvent, ExportLog, LiaisonGroup, Post, User


class PostInline(admin.TabularInline):
    model = Post
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["area", "liaison_group"]


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    list_display = ["username", "real_name", "mobile", "is_active", "last_login"]
    search_fields = ["username", "real_name", "mobile"]
    # What a user may do comes from their posts (roles → groups), never from per-user
    # permissions or group membership, so the admin offers neither (network.backends).
    fieldsets = (
        (None, {"fields": ["username", "password"]}),
        (_("Tongxin"), {"fields": ["real_name", "mobile", "email"]}),
        (_("Status"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
        (_("Password"), {"fields": ["must_change_password", "password_changed_at"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    )
    readonly_fields = ["password_changed_at"]
    inlines = [PostInline]

    def save_model(self, request, obj, form, change):
        if not change:  # the administrator chose the password: the user chooses their own
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    def user_change_password(self, request, id, form_url=""):
        """Setting someone's password ends their sessions (Django's session hash) and makes
        them choose their own at the next sign-in (network.signin)."""
        from django.contrib.admin.utils import unquote

        from network.signin import password_set_by_admin

        response = super().user_change_password(request, id, form_url)
        saved = response.status_code == 302 and response.url != request.get_full_path()
        if request.method == "POST" and saved:
            password_set_by_admin(request, self.get_object(request, unquote(id)))
        return response


class PopulationInline(admin.TabularInline):
    model = AreaPopulation
    extra = 0


@admin.register(Area)
class AreaAdmin(SimpleHistoryAdmin):
    list_display = ["name", "level", "code", "parent", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    inlines = [PopulationInline]

    def has_delete_permission(self, request, obj=None):
        return False  # areas are deactivated, never deleted: records point at them


@admin.register(LiaisonGroup)
class LiaisonGroupAdmin(SimpleHistoryAdmin):
    list_display = ["name", "community", "established_on", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "community__name"]
    list_select_related = ["community"]
    autocomplete_fields = ["community"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role", "area", "liaison_group", "start_date", "end_date"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__real_name", "area__name"]
    list_select_related = ["user", "area", "liaison_group"]
    autocomplete_fields = ["user", "area", "liaison_group"]

    def has_delete_permission(self, request, obj=None):
        return False  # a post is ended, not deleted, so its history stays


@admin.register(AreaPopulation)
class AreaPopulationAdmin(SimpleHistoryAdmin):
    list_display = ["area", "year", "registered", "floating"]
    list_filter = ["year"]
    search_fields = ["area__name"]
    list_select_related = ["area"]
    autocomplete_fields = ["area"]


class AppendOnlyAdmin(admin.ModelAdmin):
    """For logs: readable, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportLog)
class ExportLogAdmin(AppendOnlyAdmin):
    """Read-only: an export log nobody can edit or delete."""

    list_display = ["at", "user", "label", "file_format", "row_count", "area", "ip_address"]
    list_filter = ["exporter", "file_format"]
    list_select_related = ["user", "area"]
    search_fields = ["user__username", "user__real_name", "label"]


@admin.register(AuditEvent)
class AuditEventAdmin(AppendOnlyAdmin):
    """Read-only: no add, change or delete, and no delete action (network.audit refuses them
    at the model too). Reading it needs ``network.view_auditevent``."""

    actions = None
    list_display = ["at", "kind", "username", "ip_address", "object_type", "object_label", "area"]
    list_filter = ["kind"]
    list_select_related = ["user", "area"]
    search_fields = ["username", "user__real_name", "object_label", "ip_address"]
    date_hierarchy = "at"
    readonly_fields = [
        "at",
        "kind",
        "user",
        "username",
        "ip_address",
        "area",
        "object_type",
        "object_id",
        "object_label",
        "changes",
        "note",
    ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)
