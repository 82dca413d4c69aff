"""Forms of the casework pages: merging, handovers, dibao standards and the roster."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.models import Area, AreaLevel
from residents.dibao import parse_month
from residents.handover import target_communities
from residents.models import DibaoStandard


class KeepForm(forms.Form):
    """Which of two records to keep."""

    keep = forms.TypedChoiceField(label=_("Record to keep"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args, records, describe, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [(r.pk, describe(r)) for r in records]


class HandoverSendForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Receiving community"),
        queryset=Area.objects.none(),
        help_text=_("Communities of other sub-districts only; within yours, move the household."),
    )

    def __init__(self, *args, household, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        field.queryset = target_communities(household)
        # Label each community with its sub-district, from one query of sub-districts.
        subdistricts = dict(
            Area.objects.filter(level=AreaLevel.SUBDISTRICT).values_list("pk", "name")
        )

        def label(area):
            sub = next((subdistricts[i] for i in area.ancestor_ids() if i in subdistricts), "")
            code = f" ({area.code})" if area.code else ""
            return f"{sub} · {area.name}{code}" if sub else f"{area.name}{code}"

        field.label_from_instance = label


class HandoverDeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the handover declined?"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DibaoStandardForm(forms.ModelForm):
    class Meta:
        model = DibaoStandard
        fields = ["area", "year", "monthly_standard", "supplement_rate"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.changeable_by(user).order_by("path")
        self.fields["year"].widget.attrs.update(min=2000, max=2100)
        if not self.instance.pk:
            self.fields["year"].initial = timezone.localdate().year

    def clean_year(self):
        year = self.cleaned_data["year"]
        if not 2000 <= year <= 2100:
            raise forms.ValidationError(_("Enter a year between 2000 and 2100."))
        return year


class RosterForm(forms.Form):
    area = forms.ModelChoiceField(label=_("Area"), queryset=Area.objects.none())
    month = forms.CharField(
        label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}), max_length=20
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.visible_to(user).order_by("path")

    def clean_month(self) -> datetime.date:
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, for example 2026-05."))
        return month
