from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = _("Outreach")

    def ready(self):
        from network.home_panels import register_panel
        from outreach import (
            compliance_cache,
            home,
            signals,
            timeline_consultations,
            timeline_pairings,
            timeline_visits,
        )
        from residents.timeline import register_action, register_source

        del signals, compliance_cache  # their handlers connect on import
        for module in (timeline_visits, timeline_pairings, timeline_consultations):
            register_source(module.entries)
            register_action(module.actions)
        register_panel(home.my_work)
