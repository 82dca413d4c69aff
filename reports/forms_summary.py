"""The summary page's chooser: an area the user may see and a period as staff type it."""

import datetime

from django import forms
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.access import get_visible_or_404, scope_for
from network.models import Area, AreaLevel
from reports.periods import Period, PeriodError, parse_period, period_of_year
from residents.pages import AreaField, style_widgets
from residents.typed_input import MAX_ID, whole_number

INDENT = {
    AreaLevel.DISTRICT: "",
    AreaLevel.SUBDISTRICT: "· ",
    AreaLevel.ZONE: "· · ",
    AreaLevel.COMMUNITY: "· · · ",
}


class SummaryAreaField(AreaField):
    def label_from_instance(self, obj):
        return f"{INDENT.get(obj.level, '')}{obj.name}"


def summary_areas(user, chosen: Area | None = None):
    """The areas a summary can be made for: every active area the user may see (and the
    chosen one, should it have been closed since)."""
    keep = Q(is_active=True)
    if chosen is not None:
        keep |= Q(pk=chosen.pk)
    return Area.objects.visible_to(user).filter(keep).order_by("path")


def default_area(user) -> Area:
    """The highest area among the user's current posts (a superuser: the top of the tree)."""
    scope = scope_for(user)
    areas = Area.objects.filter(is_active=True)
    if not scope.everything:
        areas = areas.filter(pk__in=scope.area_ids)
    found = sorted(areas, key=lambda a: (len(a.path), a.path))
    if not found:
        raise Http404
    return found[0]


def area_from(user, raw) -> Area:
    """The area picked in the URL (``?area=<pk>``), or the user's own when none is: an id
    that is not a number, does not exist or lies outside the user's scope is a 404."""
    if raw in (None, ""):
        return default_area(user)
    pk = whole_number(raw)
    if pk is None or not 0 < pk <= MAX_ID:
        raise Http404
    return get_visible_or_404(Area.objects.all(), user, pk=pk)


def this_year(today: datetime.date) -> Period:
    return period_of_year(today.year)


def period_from(raw, today: datetime.date) -> Period:
    """The period in the URL, this year when none is given; raises ``PeriodError``."""
    if raw in (None, ""):
        return this_year(today)
    return parse_period(raw)


def quick_periods(today: datetime.date) -> list[tuple[str, str]]:
    """(key, label) of the periods people ask for most."""
    quarter = (today.month - 1) // 3 + 1
    return [
        (f"{today.year}", _("This year")),
        (f"{today.year - 1}", _("Last year")),
        (f"{today.year}-Q{quarter}", _("This quarter")),
        (f"{today.year}-H1", _("First half of this year")),
    ]


class SummaryForm(forms.Form):
    area = SummaryAreaField(
        label=gettext_lazy("Area"), queryset=Area.objects.none(), empty_label=None
    )
    period = forms.CharField(
        label=gettext_lazy("Period"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("2025, 2025-H1, 2025-Q3, 2025-07 or 2025-03-01..2025-06-30"),
    )

    def __init__(self, *args, user, chosen: Area | None = None, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or datetime.date.today()
        self.fields["area"].queryset = summary_areas(user, chosen)
        self.fields["period"].widget.attrs["placeholder"] = "2025-Q3"
        style_widgets(self.fields)

    def clean_period(self) -> Period:
        try:
            return period_from(self.cleaned_data.get("period"), self.today)
        except PeriodError as error:
            raise forms.ValidationError(str(error)) from None
