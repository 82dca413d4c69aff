"""The admin for services: records can be read and corrected here by bureau staff, never
deleted (merchants, agreements and uses are archived in the app, cards lost or revoked)."""

from django.contrib import admin

from residents.admin import NoDeleteAdmin
from services.models import (
    Agreement,
    AgreementItem,
    CardUse,
    Consent,
    Merchant,
    MerchantAccount,
    ServiceCard,
    Survey,
    SurveyAnswer,
)


@admin.register(Merchant)
class MerchantAdmin(NoDeleteAdmin):
    list_display = ["name", "category", "area", "phone", "licence_number", "archived_at"]
    list_filter = ["category", "archived_at"]
    list_select_related = ["area"]
    search_fields = ["name", "address", "licence_number"]
    autocomplete_fields = ["area"]
    filter_horizontal = ["serves"]


class AgreementItemInline(admin.TabularInline):
    model = AgreementItem
    extra = 0
    can_delete = False


@admin.register(Agreement)
class AgreementAdmin(NoDeleteAdmin):
    list_display = ["merchant", "number", "area", "status", "valid_from", "valid_to"]
    list_filter = ["status"]
    list_select_related = ["merchant", "area"]
    search_fields = ["number", "merchant__name"]
    raw_id_fields = ["merchant", "created_by"]
    autocomplete_fields = ["area"]
    inlines = [AgreementItemInline]


@admin.register(Consent)
class ConsentAdmin(NoDeleteAdmin):
    list_display = ["person", "given_on", "form_reference", "withdrawn_on"]
    list_select_related = ["person"]
    raw_id_fields = ["person", "recorded_by"]


@admin.register(ServiceCard)
class ServiceCardAdmin(NoDeleteAdmin):
    list_display = ["number", "scheme", "holder", "issued_on", "valid_until", "status"]
    list_filter = ["scheme", "status"]
    list_select_related = ["holder"]
    search_fields = ["number"]
    raw_id_fields = ["holder", "replaces", "issued_by"]
    autocomplete_fields = ["issuing_area"]


@admin.register(CardUse)
class CardUseAdmin(NoDeleteAdmin):
    list_display = ["used_on", "card", "merchant", "item", "value_before", "value_after"]
    list_filter = ["channel", "used_on"]
    list_select_related = ["card", "merchant", "item"]
    search_fields = ["card__number", "merchant__name"]
    raw_id_fields = ["card", "merchant", "item", "recorded_by"]


@admin.register(MerchantAccount)
class MerchantAccountAdmin(NoDeleteAdmin):
    list_display = ["user", "merchant", "is_active"]
    list_select_related = ["user", "merchant"]
    raw_id_fields = ["user", "merchant"]


class SurveyAnswerInline(admin.TabularInline):
    model = SurveyAnswer
    extra = 0


@admin.register(Survey)
class SurveyAdmin(NoDeleteAdmin):
    list_display = ["household", "surveyed_on", "respondent", "archived_at"]
    list_select_related = ["household"]
    raw_id_fields = ["household", "respondent", "recorded_by"]
    inlines = [SurveyAnswerInline]
