"""Forms of the data-quality and budget pages: the area-and-period (or year) picker, drawn
from what the user may see, and the budget of one area and year."""

from django import forms
from django.utils.translation import gettext_lazy as _

from network.models import Area
from reports.models import Budget
from residents.pages import AreaField, style_widgets
from residents.typed_input import YuanField


class AreaPeriodForm(forms.Form):
    """The picker above the quality page (GET). The view reads ``area`` and ``period`` itself
    (a foreign area is a 404, a bad period a message), so this only draws the fields."""

    area = AreaField(label=_("Area"), queryset=Area.objects.none(), required=False)
    period = forms.CharField(
        label=_("Period"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "2025, 2025-H1, 2025-Q3, 2025-07"}),
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        field = self.fields["area"]
        field.queryset = Area.objects.visible_to(user).filter(is_active=True).order_by("path")
        field.empty_label = None
        style_widgets(self.fields)


class AreaYearForm(AreaPeriodForm):
    """The picker above the budget list: an area and a year."""

    period = None
    year = forms.CharField(
        label=_("Year"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class BudgetForm(forms.ModelForm):
    """The amount in yuan as people type it (１２０００元, ¥12,000) and a note."""

    amount = YuanField(label=_("Budget (yuan)"))

    class Meta:
        model = Budget
        fields = ["amount", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)
