"""The admin for outreach: configuration (festivals, recurring obligations) is edited here;
casework can be read and corrected here but never deleted (archive it in the app)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from outreach.models import (
    Assistance,
    Consultation,
    Festival,
    FollowUp,
    GroupMembership,
    Liaison,
    Meeting,
    Obligation,
    Pairing,
    Photo,
    Visit,
    WorkGroup,
    WorkGroupMember,
    ZonePost,
)
from residents.admin import NoDeleteAdmin


@admin.register(Festival)
class FestivalAdmin(SimpleHistoryAdmin):
    list_display = ["name", "calendar", "month", "day", "is_active"]
    list_filter = ["calendar", "is_active"]
    filter_horizontal = ["ethnicities"]


@admin.register(Obligation)
class ObligationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "unit", "period", "times", "area", "is_active"]
    list_filter = ["kind", "unit", "period", "is_active"]
    autocomplete_fields = ["area"]


class MembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    can_delete = False
    autocomplete_fields = ["group"]


@admin.register(Liaison)
class LiaisonAdmin(NoDeleteAdmin):
    list_display = ["name", "community", "user", "mobile", "is_committee_secretary", "archived_at"]
    list_select_related = ["community", "user"]
    search_fields = ["name", "mobile"]
    raw_id_fields = ["person", "user"]
    autocomplete_fields = ["community"]
    inlines = [MembershipInline]


@admin.register(ZonePost)
class ZonePostAdmin(NoDeleteAdmin):
    list_display = ["zone", "position", "liaison", "start_date", "end_date"]
    list_select_related = ["zone", "liaison"]
    raw_id_fields = ["liaison"]


class WorkGroupMemberInline(admin.TabularInline):
    model = WorkGroupMember
    extra = 0
    can_delete = False
    raw_id_fields = ["user"]


@admin.register(WorkGroup)
class WorkGroupAdmin(NoDeleteAdmin):
    list_display = ["name", "kind", "subdistrict", "archived_at"]
    list_select_related = ["subdistrict"]
    inlines = [WorkGroupMemberInline]


@admin.register(Pairing)
class PairingAdmin(NoDeleteAdmin):
    list_display = ["household", "kind", "partner_user", "partner_liaison", "start_date"]
    list_select_related = ["household", "partner_user", "partner_liaison"]
    list_filter = ["kind"]
    raw_id_fields = [
        "household",
        "person",
        "partner_user",
        "partner_liaison",
        "partner_person",
        "succeeds",
    ]
    exclude = ["community"]


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 0
    can_delete = False
    raw_id_fields = ["assignee"]


class AssistanceInline(admin.TabularInline):
    model = Assistance
    extra = 0
    can_delete = False


@admin.register(Visit)
class VisitAdmin(NoDeleteAdmin):
    """Also the stock changelist the household timeline is benchmarked against, so it shows
    as many rows a page as the timeline does (residents.timeline.PER_PAGE)."""

    list_per_page = 20

    list_display = ["visited_on", "household", "kind", "festival", "community"]
    list_select_related = ["household", "festival", "community"]
    list_filter = ["kind", "festival"]
    date_hierarchy = "visited_on"
    raw_id_fields = ["household", "pairing", "visitors", "visiting_liaisons"]
    exclude = ["community"]
    inlines = [FollowUpInline, AssistanceInline]


@admin.register(Meeting)
class MeetingAdmin(NoDeleteAdmin):
    list_display = ["held_on", "kind", "title", "area", "liaison_group", "other_attendees"]
    list_select_related = ["area", "liaison_group"]
    list_filter = ["kind"]
    date_hierarchy = "held_on"
    raw_id_fields = ["attending_users", "attending_liaisons", "attending_persons"]
    autocomplete_fields = ["area"]


@admin.register(Consultation)
class ConsultationAdmin(NoDeleteAdmin):
    list_display = ["received_at", "channel", "topic", "status", "handler", "community"]
    list_select_related = ["handler", "community"]
    list_filter = ["channel", "topic", "status"]
    raw_id_fields = ["person", "handler"]


@admin.register(Photo)
class PhotoAdmin(NoDeleteAdmin):
    list_display = ["caption", "visit", "meeting", "uploaded_at"]
    list_select_related = ["visit__household", "meeting"]  # a visit's name is its household's
    raw_id_fields = ["visit", "meeting"]
    exclude = ["community", "liaison_group"]
