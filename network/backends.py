"""Permissions follow current posts: each role's Django group grants its permissions only
while the user holds a current post with that role, so an ended post leaves nothing behind.
Per-user permissions and group membership are not used (the admin does not offer them)."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from network.access import scope_for


class PostBackend(ModelBackend):
    def _get_user_permissions(self, user_obj):
        """None: a role is configured once, on its group, not person by person."""
        return Permission.objects.none()

    def _get_group_permissions(self, user_obj):
        from network.models import ROLE_GROUP_NAMES

        group_names = [ROLE_GROUP_NAMES[role] for role in scope_for(user_obj).roles]
        return Permission.objects.filter(group__name__in=group_names)
