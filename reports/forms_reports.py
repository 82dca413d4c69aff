"""Forms of the report pages: generate a report, edit its narrative, take a step."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from network.models import Area, AreaLevel
from reports.models import ReportDefinition, ReportStatus
from residents.pages import AreaField, ListFilterForm, style_widgets


class DefinitionField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title}（{obj.area.name} · {obj.period}）"


def definitions_for(user):
    """The active definitions a user may generate from: the bureau's, shared below."""
    return (
        ReportDefinition.objects.visible_to(user)
        .filter(is_active=True)
        .select_related("area")
        .order_by("-created_at", "pk")
    )


def report_areas_for(user):
    """The areas a user makes reports for: those they may change."""
    return Area.objects.changeable_by(user).filter(is_active=True).order_by("path")


class GenerateForm(forms.Form):
    definition = DefinitionField(label=_("Report"), queryset=ReportDefinition.objects.none())
    area = AreaField(label=_("Area"), queryset=Area.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["definition"].queryset = definitions_for(user)
        self.fields["area"].queryset = report_areas_for(user)
        self.fields["definition"].error_messages["invalid_choice"] = _(
            "Choose one of the reports listed."
        )
        self.fields["area"].error_messages["invalid_choice"] = _("Choose one of the areas listed.")
        style_widgets(self.fields)

    def clean(self):
        cleaned = super().clean()
        definition, area = cleaned.get("definition"), cleaned.get("area")
        if definition and area and not area.path.startswith(definition.area.path):
            self.add_error(
                "area",
                gettext("“%(title)s” is made for %(area)s and the areas under it.")
                % {"title": definition.title, "area": definition.area.name},
            )
        return cleaned


class NarrativeForm(forms.Form):
    narrative = forms.CharField(
        label=_("Narrative"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=_(
            "A line starting with 一、 or “# ” is a heading. A figure is written {{ key }}; "
            "{{ area }} and {{ period }} are the report's area and period."
        ),
    )
    revision = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)


class ReportFilterForm(ListFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *ReportStatus.choices]
    )
    area = AreaField(label=_("Area"), required=False, queryset=Area.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = (
            Area.objects.visible_to(user)
            .exclude(level=AreaLevel.DISTRICT)
            .filter(is_active=True)
            .order_by("path")
        )
        style_widgets(self.fields)
