"""Conventions every model of Tongxin must follow, so later models cannot forget them."""

from django.apps import apps

PROJECT_APPS = {"network", "residents", "outreach", "services", "reports"}
# Models that belong to no area (checked by hand; extend with a reason).
UNSCOPED = {
    "network.User": "accounts are scoped through their posts (access.users_visible_to)",
    "residents.Ethnicity": "a national reference table (GB/T 3304), the same for everyone",
    "outreach.Festival": "a calendar of festivals, the same for the whole district",
    "outreach.Obligation": "configuration edited in the admin by district bureau staff only",
    "outreach.ComplianceVersion": "one row counting changes for the compliance cache, no record",
    "reports.FigureRule": "validation rules edited in the admin by district bureau staff only",
}


def project_models():
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.app_label in PROJECT_APPS and not label.split(".")[1].startswith(
            "Historical"
        ):
            yield label, model


def test_every_model_keeps_history():
    missing = [
        label
        for label, model in project_models()
        if not hasattr(model, "history") and not getattr(model, "append_only", False)
    ]
    assert missing == []


def test_every_model_names_its_area_or_is_listed_as_unscoped():
    missing = [
        label
        for label, model in project_models()
        if label not in UNSCOPED and not hasattr(model, "scope_area_field")
    ]
    assert missing == []


def test_scoped_models_have_scoped_querysets():
    for label, model in project_models():
        if hasattr(model, "scope_area_field"):
            assert hasattr(model._default_manager, "visible_to"), label
            assert hasattr(model._default_manager, "changeable_by"), label


def test_append_only_logs_cannot_be_changed_in_the_admin():
    from django.contrib import admin

    for label, model in project_models():
        if getattr(model, "append_only", False) and model in admin.site._registry:
            model_admin = admin.site._registry[model]
            assert not model_admin.has_change_permission(None), label
            assert not model_admin.has_delete_permission(None), label
