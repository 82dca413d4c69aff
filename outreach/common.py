"""What every outreach page shares: who may record where, and the area, group and date
filters of the lists. What all casework pages share is in ``residents.pages``."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy

from network.access import area_q, can_change_area, scope_for
from network.models import Area, AreaLevel, LiaisonGroup
from residents.pages import AreaField, ListFilterForm, style_widgets

# ---------------------------------------------------------------- who may record where


def liaison_group_ids(user) -> frozenset[int]:
    """The liaison groups in which ``user`` holds a current liaison post."""
    return scope_for(user).group_ids


def may_record_in(user, area: Area, group: LiaisonGroup | None = None) -> bool:
    """Staff record anywhere they manage; a liaison records for their own group, in its
    community."""
    if can_change_area(user, area):
        return True
    return bool(
        group is not None
        and group.pk in liaison_group_ids(user)
        and area.path.startswith(group.community.path)
    )


def default_group(user) -> LiaisonGroup | None:
    """The liaison group a liaison records for by default (their first current one)."""
    ids = sorted(liaison_group_ids(user))
    if not ids:
        return None
    return LiaisonGroup.objects.select_related("community").filter(pk=ids[0]).first()


def recordable_groups(user):
    """Liaison groups a user may record for: their own as a liaison, all they manage as staff."""
    groups = LiaisonGroup.objects.visible_to(user).filter(is_active=True)
    scope = scope_for(user)
    if scope.everything:
        return groups.select_related("community")
    own = Q(pk__in=sorted(liaison_group_ids(user)))
    staff = area_q(user, "community", for_change=True)
    return groups.filter(staff | own).select_related("community")


# ---------------------------------------------------------------- list filters


class OutreachFilterForm(ListFilterForm):
    """Area, liaison group and date range, shared by the outreach lists (GET). A value that
    does not fit is dropped, never an error page. Subclasses add kind, status, who."""

    area = AreaField(
        label=gettext_lazy("Area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    group = forms.ModelChoiceField(
        label=gettext_lazy("Liaison group"),
        queryset=LiaisonGroup.objects.none(),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    archived = forms.BooleanField(label=gettext_lazy("Archived only"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        areas = Area.objects.visible_to(user).exclude(level=AreaLevel.DISTRICT).order_by("path")
        self.fields["area"].queryset = areas
        self.fields["group"].queryset = LiaisonGroup.objects.visible_to(user).order_by("name")
        style_widgets(self.fields)


def filter_by_area_group_dates(
    records,
    filters: dict,
    *,
    area_field: str,
    date_field: str,
    group_field: str | None = "liaison_group",
):
    """Apply the shared filters to an already scoped queryset."""
    if filters.get("area") is not None:
        records = records.filter(**{f"{area_field}__path__startswith": filters["area"].path})
    if group_field and filters.get("group") is not None:
        records = records.filter(**{group_field: filters["group"]})
    if filters.get("date_from"):
        records = records.filter(**{f"{date_field}__gte": filters["date_from"]})
    if filters.get("date_to"):
        records = records.filter(**{f"{date_field}__lte": filters["date_to"]})
    if hasattr(records.model, "archived_at"):
        records = records.filter(archived_at__isnull=not filters.get("archived"))
    return records
