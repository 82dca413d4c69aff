"""The liaison network at work (seed 000: 查询有资料、工作有记录、考核有依据).

Who does the work (liaisons, their groups, zone posts, leadership groups), what they do
(pairings, visits with follow-ups and assistance, meetings, consultations) and what they must
do (festivals and recurring obligations). Casework records are archived (``archived_at``),
never deleted; every model keeps its history.

Each record names its area for scoping (``scope_area_field``); records a liaison group owns
name it too (``scope_group_field``), so a liaison changes only their own group's records.
"""

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from network.access import ScopedQuerySet
from network.models import Area, AreaLevel, LiaisonGroup
from network.versioning import bump_version
from residents.models import Archivable, CaseworkQuerySet, Ethnicity, Household, Person

# ---------------------------------------------------------------- the network's people


class Liaison(Archivable):
    """联络员: with a login (``user``) or without one; often a minority resident
    (``person``)."""

    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="liaisons",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    name = models.CharField(_("name"), max_length=50)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="liaison_records",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person in the register"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="liaison_records",
    )
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    unit = models.CharField(_("work unit"), max_length=100, blank=True)
    is_committee_secretary = models.BooleanField(
        _("committee secretary"),
        default=False,
        help_text=_("The community committee's secretary is this liaison."),
    )
    note = models.TextField(_("note"), blank=True)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "community"

    class Meta:
        verbose_name = _("liaison")
        verbose_name_plural = _("liaisons")
        ordering = ["community__path", "name", "id"]

    def __str__(self):
        return self.name


class GroupPosition(models.TextChoices):
    LEADER = "leader", _("Group leader (组长)")
    DEPUTY = "deputy", _("Deputy leader (副组长)")
    MEMBER = "member", _("Liaison (联络员)")


class Dated(models.Model):
    start_date = models.DateField(_("from"), default=timezone.localdate)
    end_date = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date is before the start date.")})

    def is_current_on(self, day) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


def current_q(on=None, prefix: str = "") -> Q:
    on = on or timezone.localdate()
    return Q(**{f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on})
    )


class GroupMembership(Dated):
    """A liaison's place in a liaison group, with a position and dates."""

    liaison = models.ForeignKey(
        Liaison, verbose_name=_("liaison"), on_delete=models.PROTECT, related_name="memberships"
    )
    group = models.ForeignKey(
        LiaisonGroup,
        verbose_name=_("liaison group"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    position = models.CharField(
        _("position"), max_length=20, choices=GroupPosition.choices, default=GroupPosition.MEMBER
    )

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "group__community"
    scope_group_field = "group"

    class Meta:
        verbose_name = _("liaison group membership")
        verbose_name_plural = _("liaison group memberships")
        ordering = ["group", "position", "start_date"]
        constraints = [
            # The application refuses overlapping leaders; this stops two racing requests.
            models.UniqueConstraint(
                fields=["group"],
                condition=Q(position="leader", end_date__isnull=True),
                name="one_open_group_leader",
            )
        ]

    def __str__(self):
        return f"{self.liaison} · {self.group}"


class ZonePosition(models.TextChoices):
    HEAD = "head", _("Zone head (片长)")
    LIAISON = "liaison", _("Zone liaison (片联络员)")


class ZonePost(Dated):
    """片长 or 片联络员 of a zone (a cluster of communities in one sub-district)."""

    zone = models.ForeignKey(
        Area,
        verbose_name=_("zone"),
        on_delete=models.PROTECT,
        related_name="zone_posts",
        limit_choices_to={"level": AreaLevel.ZONE},
    )
    liaison = models.ForeignKey(
        Liaison, verbose_name=_("liaison"), on_delete=models.PROTECT, related_name="zone_posts"
    )
    position = models.CharField(_("position"), max_length=20, choices=ZonePosition.choices)

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "zone"

    class Meta:
        verbose_name = _("zone post")
        verbose_name_plural = _("zone posts")
        ordering = ["zone__path", "position", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone"],
                condition=Q(position="head", end_date__isnull=True),
                name="one_open_zone_head",
            )
        ]

    def __str__(self):
        return f"{self.zone} · {self.get_position_display()} · {self.liaison}"

    def clean(self):
        super().clean()
        if self.zone_id and self.zone.level != AreaLevel.ZONE:
            raise ValidationError({"zone": _("Choose a zone.")})


class WorkGroupKind(models.TextChoices):
    LEADERSHIP = "leadership", _("Leadership group (领导小组)")
    COORDINATION = "coordination", _("Coordination group (协调小组)")


class WorkGroup(Archivable):
    """A sub-district's ethnic-work leadership or coordination group."""

    subdistrict = models.ForeignKey(
        Area,
        verbose_name=_("sub-district"),
        on_delete=models.PROTECT,
        related_name="work_groups",
        limit_choices_to={"level": AreaLevel.SUBDISTRICT},
    )
    kind = models.CharField(_("kind"), max_length=20, choices=WorkGroupKind.choices)
    name = models.CharField(_("name"), max_length=100)
    established_on = models.DateField(_("established on"), null=True, blank=True)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "subdistrict"

    class Meta:
        verbose_name = _("leadership or coordination group")
        verbose_name_plural = _("leadership and coordination groups")
        ordering = ["subdistrict__path", "kind", "name"]

    def __str__(self):
        return self.name


class WorkGroupPosition(models.TextChoices):
    HEAD = "head", _("Head (组长)")
    DEPUTY = "deputy", _("Deputy head (副组长)")
    MEMBER = "member", _("Member (组员)")
    MEMBER_UNIT = "unit", _("Member unit (成员单位)")


class WorkGroupMember(Dated):
    group = models.ForeignKey(
        WorkGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("name"), max_length=50)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_group_seats",
    )
    position = models.CharField(
        _("position"),
        max_length=20,
        choices=WorkGroupPosition.choices,
        default=WorkGroupPosition.MEMBER,
    )
    unit = models.CharField(_("unit"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "group__subdistrict"

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering = ["group", "position", "name"]

    def __str__(self):
        return self.name


# ---------------------------------------------------------------- pairings


class PairingKind(models.TextChoices):
    """Seed 000's five levels of friendship pairing (联谊交友制度), then assistance and
    study-grant pairings."""

    LEADER_KEY_PERSON = "f1", _("Sub-district leader with a key person (一级交友)")
    CADRE_ASSOCIATION = "f2", _("United-front cadre with an association officer (二级交友)")
    COMMITTEE_RESIDENT = "f3", _("Committee cadre with a resident (三级交友)")
    LIAISON_RESIDENT = "f4", _("Liaison with a resident (四级交友)")
    RESIDENT_RESIDENT = "f5", _("Resident with a resident (五级交友)")
    ASSISTANCE = "assistance", _("Assistance pairing (帮困结对)")
    STUDY_GRANT = "study_grant", _("Study-grant pairing (助学结对)")


class Pairing(Archivable, Dated):
    """An official (``partner_user``), liaison or volunteer (``partner_person``) paired
    with a household, or with a key person and through them their household."""

    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="pairings"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="pairings"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("paired person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pairings",
        help_text=_("A key person, when the pairing is with one person of the household."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PairingKind.choices)
    partner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("official"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pairings",
    )
    partner_liaison = models.ForeignKey(
        Liaison,
        verbose_name=_("liaison"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pairings",
    )
    partner_person = models.ForeignKey(
        Person,
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_pairings",
    )
    visits_per_year = models.PositiveSmallIntegerField(
        _("visits a year"), default=4, validators=[MinValueValidator(0)]
    )
    succeeds = models.ForeignKey(
        "self",
        verbose_name=_("handed over from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successors",
    )
    note = models.TextField(_("note"), blank=True)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "community"

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        permissions = [("hand_over_pairing", _("Can hand pairings over to a successor"))]
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(partner_user__isnull=False, partner_liaison__isnull=True)
                    & Q(partner_person__isnull=True)
                )
                | (
                    Q(partner_user__isnull=True, partner_liaison__isnull=False)
                    & Q(partner_person__isnull=True)
                )
                | (
                    Q(partner_user__isnull=True, partner_liaison__isnull=True)
                    & Q(partner_person__isnull=False)
                ),
                name="pairing_has_one_partner",
            ),
        ]
        indexes = [
            models.Index(fields=["household", "start_date"], name="pairing_household_idx"),
            # the list of current pairings, newest first: a page without sorting them all
            models.Index(
                fields=["start_date", "id"],
                condition=Q(archived_at__isnull=True),
                name="pairing_order_idx",
            ),
        ]

    def __str__(self):
        return f"{self.partner} · {self.household}"

    def save(self, *args, **kwargs):
        if self.household_id:
            self.community_id = self.household.community_id
        super().save(*args, **kwargs)

    @property
    def partner(self):
        return self.partner_user or self.partner_liaison or self.partner_person


# ---------------------------------------------------------------- festivals and visits


class Calendar(models.TextChoices):
    GREGORIAN = "gregorian", _("Gregorian (公历)")
    LUNAR = "lunar", _("Chinese lunar (农历)")
    ISLAMIC = "islamic", _("Islamic (伊斯兰历)")


class Festival(models.Model):
    """A festival on the calendar it follows; its date in a given year is computed
    (``outreach.festivals``). ``ethnicities`` empty: everyone's festival."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    calendar = models.CharField(_("calendar"), max_length=20, choices=Calendar.choices)
    month = models.PositiveSmallIntegerField(_("month"))
    day = models.PositiveSmallIntegerField(_("day"))
    ethnicities = models.ManyToManyField(
        Ethnicity, verbose_name=_("ethnic groups"), blank=True, related_name="festivals"
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("festival")
        verbose_name_plural = _("festivals")
        ordering = ["calendar", "month", "day"]

    def __str__(self):
        return self.name

    def clean(self):
        limits = {
            Calendar.GREGORIAN: (12, 31),
            Calendar.LUNAR: (12, 30),
            Calendar.ISLAMIC: (12, 30),
        }
        months, days = limits.get(self.calendar, (12, 31))
        if not (1 <= (self.month or 0) <= months and 1 <= (self.day or 0) <= days):
            raise ValidationError(_("This month and day do not exist in that calendar."))


class VisitKind(models.TextChoices):
    CARE = "care", _("Care visit (关心访问)")
    FESTIVAL = "festival", _("Festival visit (节庆走访)")
    HARDSHIP = "hardship", _("Hardship visit (帮困走访)")
    NEW_ARRIVAL = "new_arrival", _("New-arrival visit (新迁入走访)")
    CONDOLENCE = "condolence", _("Condolence visit (慰问)")
    PAIRING = "pairing", _("Pairing visit (结对走访)")
    OTHER = "other", _("Other")


class Visit(Archivable):
    """走访: a visit to a household."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="visits"
    )
    community = models.ForeignKey(
        Area, verbose_name=_("community"), on_delete=models.PROTECT, related_name="visits"
    )
    liaison_group = models.ForeignKey(
        LiaisonGroup,
        verbose_name=_("liaison group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    pairing = models.ForeignKey(
        Pairing,
        verbose_name=_("under pairing"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    visited_on = models.DateField(_("date"), default=timezone.localdate)
    kind = models.CharField(_("kind"), max_length=20, choices=VisitKind.choices)
    festival = models.ForeignKey(
        Festival,
        verbose_name=_("festival"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    visitors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("visitors"), blank=True, related_name="visits"
    )
    visiting_liaisons = models.ManyToManyField(
        Liaison, verbose_name=_("visiting liaisons"), blank=True, related_name="visits"
    )
    other_visitors = models.CharField(_("other visitors"), max_length=200, blank=True)
    learned = models.TextField(_("what was learned"), blank=True)
    needs = models.TextField(_("needs raised"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField(
        _("version"), default=1, editable=False, help_text=_("Raised by every saved edit.")
    )

    history = HistoricalRecords(m2m_fields=[visitors, visiting_liaisons])
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "community"
    scope_group_field = "liaison_group"

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        permissions = [
            ("export_outreach", _("Can export visits, meetings, consultations and pairings")),
            ("view_compliance", _("Can see what is due, done and overdue")),
        ]
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["household", "visited_on"], name="visit_household_idx"),
            models.Index(fields=["community", "visited_on"], name="visit_community_idx"),
            models.Index(fields=["visited_on", "id"], name="visit_order_idx"),
            # compliance (outreach.compliance): a festival's visits in a window, and the
            # visits of a period, read from the index alone (hash semi-joins, not probes)
            models.Index(
                fields=["kind", "festival", "visited_on"],
                include=["household"],
                condition=Q(archived_at__isnull=True),
                name="visit_festival_window_idx",
            ),
            models.Index(
                fields=["visited_on", "household"],
                condition=Q(archived_at__isnull=True),
                name="visit_current_day_idx",
            ),
            # the list's count of current visits in the user's areas, from the index alone
            models.Index(
                fields=["community"],
                condition=Q(archived_at__isnull=True),
                name="visit_current_area_idx",
            ),
        ]

    def __str__(self):
        return f"{self.visited_on} · {self.household}"

    def save(self, *args, **kwargs):
        if self.household_id:
            self.community_id = self.household.community_id
        bump_version(self, kwargs)  # every saved change makes an open edit form stale
        super().save(*args, **kwargs)
        photos_follow(self.photos, self.community_id, self.liaison_group_id)

    def clean(self):
        super().clean()
        if self.visited_on and self.visited_on > timezone.localdate():
            raise ValidationError({"visited_on": _("A visit cannot be dated in the future.")})
        if self.kind == VisitKind.FESTIVAL and not self.festival_id:
            raise ValidationError({"festival": _("Say which festival this visit was for.")})
        if self.kind != VisitKind.FESTIVAL and self.festival_id:
            self.festival = None


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class FollowUp(models.Model):
    """An action a visit calls for, with a due date."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    action = models.CharField(_("action"), max_length=200)
    due_on = models.DateField(_("due on"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "visit__community"
    scope_group_field = "visit__liaison_group"

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="followup_due_idx")]

    def __str__(self):
        return self.action

    def clean(self):
        if self.due_on and self.visit_id and self.due_on < self.visit.visited_on:
            raise ValidationError({"due_on": _("A follow-up cannot be due before the visit.")})
        if self.status == FollowUpStatus.DONE and not self.done_on:
            self.done_on = timezone.localdate()

    @property
    def is_overdue(self) -> bool:
        return self.status == FollowUpStatus.OPEN and self.due_on < timezone.localdate()


class AssistanceKind(models.TextChoices):
    CASH = "cash", _("Cash")
    GOODS = "goods", _("Goods")
    SERVICE = "service", _("Service")


class Assistance(models.Model):
    """Assistance given on a visit, valued in yuan."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="assistance"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AssistanceKind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    value = models.DecimalField(
        _("value (yuan)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "visit__community"
    scope_group_field = "visit__liaison_group"

    class Meta:
        verbose_name = _("assistance")
        verbose_name_plural = _("assistance")
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()} ¥{self.value}"


# ---------------------------------------------------------------- meetings


class MeetingKind(models.TextChoices):
    ZONE_HEAD = "zone_head", _("Zone-head meeting (片长会议)")
    LIAISON = "liaison", _("Liaison meeting (联络员会议)")
    LEADERSHIP = "leadership", _("Leadership-group meeting (领导小组会议)")
    SYMPOSIUM = "symposium", _("Symposium (座谈会)")
    TEA_PARTY = "tea_party", _("Tea party (茶话会)")
    STUDY = "study", _("Study session (学习)")
    PUBLICITY = "publicity", _("Policy publicity (政策宣传)")
    FESTIVAL = "festival", _("Festival celebration (节庆活动)")
    OUTING = "outing", _("Outing (参观)")
    EXCHANGE = "exchange", _("Exchange meeting (联谊)")
    TRAINING = "training", _("Training (培训)")


class Meeting(Archivable):
    """A meeting or an activity, held by an area or a liaison group."""

    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices)
    title = models.CharField(_("subject"), max_length=200, blank=True)
    area = models.ForeignKey(
        Area, verbose_name=_("held by"), on_delete=models.PROTECT, related_name="meetings"
    )
    liaison_group = models.ForeignKey(
        LiaisonGroup,
        verbose_name=_("liaison group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
    )
    held_on = models.DateField(_("date"), default=timezone.localdate)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    attending_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff attending"),
        blank=True,
        related_name="meetings",
    )
    attending_liaisons = models.ManyToManyField(
        Liaison, verbose_name=_("liaisons attending"), blank=True, related_name="meetings"
    )
    attending_persons = models.ManyToManyField(
        Person, verbose_name=_("residents attending"), blank=True, related_name="meetings"
    )
    other_attendees = models.PositiveIntegerField(_("other attendees"), default=0)
    minutes = models.TextField(_("minutes"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)
    cost = models.DecimalField(
        _("cost (yuan)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    history = HistoricalRecords(m2m_fields=[attending_users, attending_liaisons, attending_persons])
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "area"
    scope_group_field = "liaison_group"

    class Meta:
        verbose_name = _("meeting or activity")
        verbose_name_plural = _("meetings and activities")
        ordering = ["-held_on", "-id"]
        indexes = [
            models.Index(fields=["area", "held_on"], name="meeting_area_idx"),
            models.Index(fields=["held_on", "id"], name="meeting_order_idx"),
            # compliance: meetings of a kind in the report's periods, from the index alone
            models.Index(
                fields=["kind", "held_on"],
                include=["area", "liaison_group"],
                condition=Q(archived_at__isnull=True),
                name="meeting_kind_day_idx",
            ),
            # the list's count of current meetings in the user's areas, from the index alone
            models.Index(
                fields=["area"],
                condition=Q(archived_at__isnull=True),
                name="meeting_current_area_idx",
            ),
        ]

    def __str__(self):
        return self.title or f"{self.held_on} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if self.liaison_group_id:
            self.area_id = self.liaison_group.community_id
        super().save(*args, **kwargs)
        photos_follow(self.photos, self.area_id, self.liaison_group_id)

    def clean(self):
        super().clean()
        if self.held_on and self.held_on > timezone.localdate():
            raise ValidationError({"held_on": _("A meeting cannot be recorded before it is held.")})


# ---------------------------------------------------------------- photos


def photos_follow(photos, area_id, group_id) -> None:
    """A record's photos are scoped by copies of its area and group: keep them in step when
    the record moves (another household, area or group), so they are seen where it is."""
    photos.exclude(community_id=area_id, liaison_group_id=group_id).update(
        community_id=area_id, liaison_group_id=group_id
    )


def photo_path(instance, filename):
    return f"outreach/photos/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.jpg"


class Photo(models.Model):
    """A photo of a visit or a meeting. Stored outside the static files and served only
    through a view that checks the record's scope."""

    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="photos",
    )
    meeting = models.ForeignKey(
        Meeting,
        verbose_name=_("meeting"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="photos",
    )
    community = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    liaison_group = models.ForeignKey(
        LiaisonGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    image = models.ImageField(_("photo"), upload_to=photo_path)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "community"
    scope_group_field = "liaison_group"

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visit__isnull=False, meeting__isnull=True)
                | Q(visit__isnull=True, meeting__isnull=False),
                name="photo_of_one_record",
            )
        ]

    def __str__(self):
        return self.caption or str(self.pk)

    def save(self, *args, **kwargs):
        record = self.visit or self.meeting
        if record is not None:
            self.community_id = record.community_id if self.visit_id else record.area_id
            self.liaison_group_id = record.liaison_group_id
        super().save(*args, **kwargs)


# ---------------------------------------------------------------- consultations


class Channel(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in (来访)")
    HOTLINE = "hotline", _("Rights hotline (热线)")
    WINDOW = "window", _("Reception window (接待窗口)")
    ONLINE = "online", _("Online or message")
    REFERRAL = "referral", _("Referred by another office")


class Topic(models.TextChoices):
    POLICY = "policy", _("Policy")
    LEGAL = "legal", _("Legal")
    EMPLOYMENT = "employment", _("Employment")
    SCHOOLING = "schooling", _("Schooling")
    HOUSING = "housing", _("Housing")
    HALAL_FOOD = "halal_food", _("Halal food (清真食品)")
    DISPUTE = "dispute", _("Dispute")
    ASSISTANCE = "assistance", _("Assistance")
    PAPERS = "papers", _("Papers and permits")
    OTHER = "other", _("Other")


class ConsultationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    REFERRED = "referred", _("Referred")


class Consultation(Archivable):
    """来访、热线、接待窗口: someone came or called with a question or a problem."""

    community = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="consultations"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person in the register"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
    )
    visitor = models.CharField(
        _("visitor"),
        max_length=100,
        blank=True,
        help_text=_("Who came or called, when they are not in the register."),
    )
    visitor_phone = models.CharField(_("visitor's phone"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    summary = models.TextField(_("what they asked"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ConsultationStatus.choices,
        default=ConsultationStatus.OPEN,
    )
    referred_to = models.CharField(_("referred to"), max_length=200, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    closed_on = models.DateField(_("resolved or referred on"), null=True, blank=True)
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "community"

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["community", "received_at"], name="consultation_area_idx"),
            models.Index(fields=["status", "handler"], name="consultation_status_idx"),
            # the list of current consultations, newest first, and its count in the user's
            # areas (from the index alone)
            models.Index(
                fields=["received_at", "id"],
                condition=Q(archived_at__isnull=True),
                name="consultation_order_idx",
            ),
            models.Index(
                fields=["community"],
                condition=Q(archived_at__isnull=True),
                name="consultation_current_area_idx",
            ),
        ]

    def __str__(self):
        return f"{self.received_at:%Y-%m-%d} · {self.person or self.visitor}"

    def clean(self):
        super().clean()
        if not self.person_id and not self.visitor.strip():
            raise ValidationError(
                {"visitor": _("Choose the person from the register or describe the visitor.")}
            )
        if self.status == ConsultationStatus.REFERRED and not self.referred_to.strip():
            raise ValidationError({"referred_to": _("Say to whom it was referred.")})
        closed = self.status in (ConsultationStatus.RESOLVED, ConsultationStatus.REFERRED)
        if closed and not self.closed_on:
            self.closed_on = timezone.localdate()
        if not closed:
            self.closed_on = None
        if self.received_at and self.received_at > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError({"received_at": _("This is in the future.")})
        if self.closed_on and self.received_at:
            received = timezone.localtime(self.received_at).date()
            if self.closed_on < received:
                raise ValidationError(
                    {"closed_on": _("It cannot be closed before it was received.")}
                )

    @property
    def days_to_resolve(self) -> int | None:
        if not self.closed_on:
            return None
        return (self.closed_on - timezone.localtime(self.received_at).date()).days


# ---------------------------------------------------------------- obligations


class ObligationKind(models.TextChoices):
    MEETING = "meeting", _("Hold a meeting")
    FESTIVAL_VISITS = "festival_visits", _("Visit every household for a festival")
    HARDSHIP_VISITS = "hardship_visits", _("Visit every hardship household")


class Period(models.TextChoices):
    MONTH = "month", _("every month")
    QUARTER = "quarter", _("every quarter")
    HALF_YEAR = "half_year", _("every half year")
    YEAR = "year", _("every year")


class ObligationUnit(models.TextChoices):
    SUBDISTRICT = "subdistrict", _("each sub-district")
    ZONE = "zone", _("each zone")
    COMMUNITY = "community", _("each community")
    LIAISON_GROUP = "liaison_group", _("each liaison group")


class Obligation(models.Model):
    """What must be done, how often, and by whom: e.g. a liaison meeting every quarter in
    each sub-district (seed 000), a study session twice a month in each group (seed 003).

    ``area`` empty: district-wide default; an obligation for an area applies under it and
    replaces a default with the same ``name``."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ObligationKind.choices)
    meeting_kind = models.CharField(
        _("meeting kind"), max_length=20, choices=MeetingKind.choices, blank=True
    )
    festival = models.ForeignKey(
        Festival,
        verbose_name=_("festival"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="obligations",
    )
    unit = models.CharField(_("who"), max_length=20, choices=ObligationUnit.choices)
    period = models.CharField(_("how often"), max_length=20, choices=Period.choices)
    times = models.PositiveSmallIntegerField(_("times per period"), default=1)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="obligations",
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("recurring obligation")
        verbose_name_plural = _("recurring obligations")
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == ObligationKind.MEETING and not self.meeting_kind:
            raise ValidationError({"meeting_kind": _("Choose the kind of meeting.")})
        if self.kind == ObligationKind.FESTIVAL_VISITS and not self.festival_id:
            raise ValidationError({"festival": _("Choose the festival.")})
        if self.times < 1:
            raise ValidationError({"times": _("At least once.")})


class ComplianceVersion(models.Model):
    """The version of the data the compliance figures read: one row, bumped (``n + 1`` and a
    fresh ``stamp``) by ``outreach.compliance_cache`` whenever a record they read is saved or
    deleted, so cached figures are never served after a change. The stamp is new at every
    bump, so a version that was rolled back is never reused. Not a record of anything: no
    area, and no history (``append_only`` exempts it; nothing edits it but that bump)."""

    append_only = True

    n = models.BigIntegerField(default=0)
    stamp = models.UUIDField(default=uuid.uuid4)

    class Meta:
        verbose_name = _("compliance data version")
        verbose_name_plural = _("compliance data versions")

    def __str__(self):
        return f"{self.n} ({self.stamp})"
