"""The home-page panel of a partner merchant's till login: the way to the till, and today's
uses at the merchant. Other users (no till login) get no panel. Two queries."""

from django.utils import timezone

from services.selectors_uses import till_today
from services.uses import merchant_of


def till_panel(request):
    """``("services/till/_home_panel.html", context)`` for a till login, else None."""
    merchant = merchant_of(request.user)
    if merchant is None:
        return None
    today = timezone.localdate()
    return "services/till/_home_panel.html", {
        "merchant": merchant,
        "today": today,
        "totals": till_today(merchant, today),
    }
