from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from network.access import may_use_admin


class TongxinAdminSite(admin.AdminSite):
    site_header = _("Tongxin administration")
    site_title = _("Tongxin")

    def has_permission(self, request):
        """District bureau staff and superusers only, whatever is_staff says."""
        return may_use_admin(request.user)
