from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from network.admin import AppendOnlyAdmin
from residents.models import DibaoStandard, Ethnicity, Honour, Household, IdNumberReveal, Person


class NoDeleteAdmin(SimpleHistoryAdmin):
    """Casework records are archived, never deleted — not even from the admin. The admin
    site enforces it for every model of the casework apps (network.admin_site); this base
    says so here too, and keeps the page size."""

    list_per_page = 50

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Ethnicity)
class EthnicityAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "romanization", "letter_code"]
    search_fields = ["code", "name", "romanization"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MemberInline(admin.TabularInline):
    model = Person
    extra = 0
    fields = ["name", "relation", "sex", "ethnicity", "birth_date", "status"]
    show_change_link = True
    can_delete = False


@admin.register(Household)
class HouseholdAdmin(NoDeleteAdmin):
    list_display = [
        "address",
        "community",
        "registration_kind",
        "is_dibao",
        "status",
        "archived_at",
    ]
    list_filter = ["registration_kind", "residence_kind", "is_dibao", "status"]
    search_fields = ["address", "ledger_number"]
    list_select_related = ["community"]
    autocomplete_fields = ["community", "handover_to"]
    inlines = [MemberInline]


@admin.register(Person)
class PersonAdmin(NoDeleteAdmin):
    """The stock changelist, also the baseline the registry list is benchmarked against;
    50 rows a page like the register, so both pages show the same rows."""

    list_per_page = 50

    list_display = ["name", "sex", "ethnicity", "birth_date", "household", "community", "status"]
    list_filter = ["ethnicity", "status", "sex"]
    search_fields = ["name", "name_pinyin", "name_initials", "id_number"]
    list_select_related = ["ethnicity", "household", "community"]
    autocomplete_fields = ["household"]
    # Full ID numbers are revealed one at a time in the app, where each reveal is logged.
    exclude = ["id_number"]
    readonly_fields = ["community", "masked_id_number"]


@admin.register(Honour)
class HonourAdmin(NoDeleteAdmin):
    list_display = ["household", "year", "kind"]
    list_filter = ["kind", "year"]
    list_select_related = ["household"]
    autocomplete_fields = ["household"]


@admin.register(DibaoStandard)
class DibaoStandardAdmin(NoDeleteAdmin):
    list_display = ["area", "year", "monthly_standard", "supplement_rate"]
    list_filter = ["year"]
    list_select_related = ["area"]
    autocomplete_fields = ["area"]


@admin.register(IdNumberReveal)
class IdNumberRevealAdmin(AppendOnlyAdmin):
    list_display = ["at", "user", "person", "ip_address"]
    list_select_related = ["user", "person"]
