from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Services")

    def ready(self):
        from network.home_panels import register_panel
        from residents.timeline import (
            register_action,
            register_member_annotations,
            register_source,
        )
        from services import home, timeline_services

        register_source(timeline_services.entries)
        register_action(timeline_services.actions)
        register_member_annotations(timeline_services.member_annotations)
        register_panel(home.till_panel)
