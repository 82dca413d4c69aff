"""Default permissions of each role's Django group.

Migrations call ``grant_default_permissions`` once; after that the groups are configured
in the admin (what a role may do is data, not code in views). Later apps add their own
defaults from their own migrations with the same function.
"""

GROUP_NAMES = {
    "district": "district bureau staff",
    "subdistrict": "sub-district staff",
    "community": "community staff",
    "liaison": "liaison",
}


def grant_default_permissions(apps, app_label: str, defaults: dict[str, list[str]]):
    """For each role key, add the named codenames of ``app_label`` to the role's group."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    create_permissions(global_apps.get_app_config(app_label), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in defaults.items():
        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Unknown permissions for {app_label}: {sorted(missing)}")
        group.permissions.add(*perms)
