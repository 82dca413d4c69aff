"""The admin for reports: the district bureau defines reports (figures in order, a narrative
template in seed 003's structure), validation rules and budgets here; generated reports are
read here (their steps are taken on the report pages), never added, changed or deleted.

Like every admin page, only district bureau staff and superusers reach these
(``TongxinAdminSite``); each list shows what the user's posts let them see.
"""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from network.access import area_q
from network.models import Area
from reports.catalogue import Section, catalogue
from reports.models import Budget, FigureRule, Report, ReportDefinition, ReportEvent
from reports.narrative import DEFAULT_TEMPLATE, SPECIAL, figure_placeholders
from residents.admin import NoDeleteAdmin


def figure_help() -> str:
    """Every figure of the catalogue (section, key, label, unit), for the definition form."""
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
        (
            (Section.LABELS.get(f.section, f.section), f.key, f.label, f.unit)
            for f in catalogue().values()
        ),
    )
    return format_html(
        '<details class="tx-figure-help"><summary>{}</summary>'
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
        "<tbody>{}</tbody></table></details>",
        gettext("The keys of the figures to show, one per line, in order. Every figure:"),
        gettext("Section"),
        gettext("Key"),
        gettext("Figure"),
        gettext("Unit"),
        rows,
    )


class ScopedAdminMixin:
    """Lists and area choices limited to what the user may see."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Area:
            kwargs["queryset"] = Area.objects.visible_to(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReportDefinitionForm(forms.ModelForm):
    class Meta:
        model = ReportDefinition
        fields = ["title", "area", "period", "figure_keys", "narrative_template", "is_active"]
        widgets = {
            "figure_keys": forms.Textarea(attrs={"rows": 14, "cols": 40, "spellcheck": "false"}),
            "narrative_template": forms.Textarea(attrs={"rows": 30, "cols": 100}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["figure_keys"].help_text = figure_help()

    def clean_figure_keys(self):
        lines = [line.strip() for line in self.cleaned_data["figure_keys"].splitlines()]
        keys = [line for line in lines if line]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise forms.ValidationError(
                gettext("Each figure may be listed once: %(keys)s appear twice.")
                % {"keys": "、".join(repeated)}
            )
        return "\n".join(keys)

    def clean_narrative_template(self):
        text = self.cleaned_data["narrative_template"]
        known = catalogue()
        unknown = [key for key in figure_placeholders(text) if key not in known]
        if unknown:
            raise forms.ValidationError(
                gettext(
                    "The template writes figures that do not exist: %(keys)s. "
                    "Use the keys listed under the figures, or %(special)s."
                )
                % {
                    "keys": "、".join(f"{{{{ {key} }}}}" for key in unknown[:5]),
                    "special": "、".join(f"{{{{ {key} }}}}" for key in SPECIAL),
                }
            )
        return text


@admin.register(ReportDefinition)
class ReportDefinitionAdmin(ScopedAdminMixin, NoDeleteAdmin):
    form = ReportDefinitionForm
    list_display = ["title", "area", "period", "figure_count", "is_active", "created_at"]
    list_filter = ["is_active", "period"]
    search_fields = ["title"]
    list_select_related = ["area"]
    readonly_fields = ["created_by", "created_at"]
    fieldsets = (
        (None, {"fields": ["title", "area", "period", "is_active"]}),
        (_("Figures"), {"fields": ["figure_keys"]}),
        (_("Narrative"), {"fields": ["narrative_template"]}),
        (_("Record"), {"fields": ["created_by", "created_at"]}),
    )

    @admin.display(description=_("figures"))
    def figure_count(self, obj):
        return len(obj.keys)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("narrative_template", DEFAULT_TEMPLATE)
        initial.setdefault("period", str(timezone.localdate().year))
        return initial

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class FigureRuleForm(forms.ModelForm):
    key = forms.ChoiceField(label=_("figure"))

    class Meta:
        model = FigureRule
        fields = ["key", "area", "required", "minimum", "maximum", "max_change", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f.key, f"{f.label} ({f.key})") for f in catalogue().values()]
        current = self.initial.get("key")
        if current and current not in dict(choices):  # a figure since removed
            choices.append((current, current))
        self.fields["key"].choices = [("", "---------"), *choices]


@admin.register(FigureRule)
class FigureRuleAdmin(NoDeleteAdmin):
    form = FigureRuleForm
    list_display = ["key", "figure_label", "area", "required", "minimum", "maximum", "max_change"]
    list_filter = ["required"]
    search_fields = ["key", "note"]
    list_select_related = ["area"]

    @admin.display(description=_("figure"))
    def figure_label(self, obj):
        f = catalogue().get(obj.key)
        return f.label if f else "—"

    def get_queryset(self, request):
        # a rule for everywhere, or for an area the user sees
        visible = Q(area__isnull=True) | area_q(request.user, "area")
        return super().get_queryset(request).filter(visible)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Area:
            kwargs["queryset"] = Area.objects.visible_to(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Budget)
class BudgetAdmin(ScopedAdminMixin, NoDeleteAdmin):
    list_display = ["area", "year", "amount", "note"]
    list_filter = ["year"]
    search_fields = ["area__name", "note"]
    list_select_related = ["area"]


class ReportEventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "by", "comment"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        # the steps are part of the report: whoever reads the report reads them
        return request.user.has_perm("reports.view_report")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


@admin.register(Report)
class ReportAdmin(ScopedAdminMixin, NoDeleteAdmin):
    """Read only: reports are generated, edited and approved on the report pages."""

    list_display = [
        "definition",
        "area",
        "period",
        "version",
        "status",
        "generated_by",
        "generated_at",
        "submitted_at",
        "locked_at",
    ]
    list_filter = ["status", "period"]
    search_fields = ["definition__title", "area__name"]
    list_select_related = ["definition", "area", "generated_by"]
    inlines = [ReportEventInline]
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
