"""Places and people of the liaison network.

The area tree is district → sub-district → zone (optional, 片) → community. Each area keeps a
materialised ``path`` of its ancestors' primary keys ("/1/4/9/"), so "everything under this
sub-district" is one indexed ``path LIKE '/1/4/%'`` query whatever the depth; zones have no
official division code, so the path cannot be built from codes alone.
"""

import datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from network.access import ScopedQuerySet
from network.division_codes import check_division_code
from network.roles import GROUP_NAMES


class AreaLevel(models.TextChoices):
    DISTRICT = "district", _("District")
    SUBDISTRICT = "subdistrict", _("Sub-district")
    ZONE = "zone", _("Zone")
    COMMUNITY = "community", _("Community")


# Which level may sit directly under which.
ALLOWED_PARENT_LEVELS = {
    AreaLevel.DISTRICT: set(),
    AreaLevel.SUBDISTRICT: {AreaLevel.DISTRICT},
    AreaLevel.ZONE: {AreaLevel.SUBDISTRICT},
    AreaLevel.COMMUNITY: {AreaLevel.SUBDISTRICT, AreaLevel.ZONE},
}


class AreaQuerySet(ScopedQuerySet):
    def under(self, area: "Area"):
        """The area and everything below it, in one indexed query."""
        return self.filter(path__startswith=area.path)

    def communities(self):
        return self.filter(level=AreaLevel.COMMUNITY)


class Area(models.Model):
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=20, choices=AreaLevel.choices)
    code = models.CharField(
        _("division code"),
        max_length=12,
        unique=True,
        null=True,
        blank=True,
        help_text=_("12-digit statistical division code; zones have none."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()
    objects = AreaQuerySet.as_manager()
    scope_area_field = ""  # an area is scoped by its own path

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="area_name_unique_under_parent"
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.code == "":
            self.code = None
        with transaction.atomic():
            old_path = self.path
            super().save(*args, **kwargs)
            new_path = (self.parent.path if self.parent_id else "/") + f"{self.pk}/"
            if new_path != old_path:
                self._move_subtree(old_path, new_path)

    def _move_subtree(self, old_path: str, new_path: str):
        Area.objects.filter(pk=self.pk).update(path=new_path)
        if old_path:
            Area.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(new_path), Substr("path", Length(Value(old_path)) + 1))
            )
        self.path = new_path

    def clean(self):
        errors = {}
        allowed = ALLOWED_PARENT_LEVELS.get(self.level, set())
        if self.parent is None and allowed:
            errors["parent"] = _("A %(level)s must belong to a parent area.") % {
                "level": self.get_level_display()
            }
        elif self.parent is not None and self.parent.level not in allowed:
            errors["parent"] = _("A %(level)s cannot sit under a %(parent)s.") % {
                "level": self.get_level_display(),
                "parent": self.parent.get_level_display(),
            }
        if self.parent_id and self.pk and self.parent.path.startswith(self.path or "\0"):
            errors["parent"] = _("An area cannot be moved under itself.")
        if self.level == AreaLevel.ZONE:
            if self.code:
                errors["code"] = _("Zones have no statistical division code.")
        elif not self.code:
            errors["code"] = _("Enter the 12-digit statistical division code.")
        elif "parent" not in errors:
            problem = check_division_code(self.code, self.level, self.official_parent_code())
            if problem:
                errors["code"] = problem
        if errors:
            raise ValidationError(errors)

    def official_parent_code(self) -> str | None:
        """The code of the nearest ancestor that has one (a zone's parent for a community)."""
        parent = self.parent
        while parent is not None and not parent.code:
            parent = parent.parent
        return parent.code if parent else None

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def ancestors(self):
        """The areas above this one, top first."""
        ids = self.ancestor_ids()[:-1]
        return sorted(Area.objects.filter(pk__in=ids), key=lambda a: ids.index(a.pk))

    def subdistrict(self) -> "Area | None":
        if self.level == AreaLevel.SUBDISTRICT:
            return self
        return next((a for a in self.ancestors() if a.level == AreaLevel.SUBDISTRICT), None)

    def contains(self, other: "Area") -> bool:
        return other.path.startswith(self.path)


class AreaPopulation(models.Model):
    """Registered and floating population of an area in a year (for the minority share)."""

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.CASCADE, related_name="populations"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    registered = models.PositiveIntegerField(_("registered population"))
    floating = models.PositiveIntegerField(_("floating population"), default=0)
    source = models.CharField(_("source"), max_length=200, blank=True)

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("area population")
        verbose_name_plural = _("area populations")
        ordering = ["area__path", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year"], name="one_population_per_area_year"),
        ]

    def __str__(self):
        return f"{self.area} {self.year}"

    @property
    def total(self) -> int:
        return self.registered + self.floating


class LiaisonGroup(models.Model):
    """少数民族联络组: a group of liaisons attached to a community."""

    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="liaison_groups",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    name = models.CharField(_("name"), max_length=100)
    established_on = models.DateField(_("established on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "community"
    scope_group_field = ""  # a liaison changes their own group

    class Meta:
        verbose_name = _("liaison group")
        verbose_name_plural = _("liaison groups")
        ordering = ["community__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="liaison_group_name_unique_in_community"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.community_id and self.community.level != AreaLevel.COMMUNITY:
            raise ValidationError({"community": _("A liaison group belongs to a community.")})


mobile_validator = RegexValidator(
    r"^1\d{10}$", _("Enter an 11-digit mainland mobile number starting with 1.")
)


class User(AbstractUser):
    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    mobile = models.CharField(
        _("mobile phone"), max_length=11, blank=True, validators=[mobile_validator]
    )

    must_change_password = models.BooleanField(
        _("must change password at next sign-in"),
        default=False,
        help_text=_("Set for accounts whose password someone else chose."),
    )
    password_changed_at = models.DateTimeField(_("password last changed"), null=True, blank=True)
    # Kept in step with the user's confirmed TOTP devices (network.two_factor), so a page
    # need not ask the device table whether a session should have given a code.
    two_factor_on = models.BooleanField(_("two-factor sign-in on"), default=False, editable=False)

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("import_users", _("Can upload accounts and posts from a file"))]

    def __str__(self):
        return self.real_name or self.username

    @property
    def display_name(self) -> str:
        return self.real_name or self.get_full_name() or self.username


class Role(models.TextChoices):
    DISTRICT = "district", _("District bureau staff")
    SUBDISTRICT = "subdistrict", _("Sub-district staff")
    COMMUNITY = "community", _("Community staff")
    LIAISON = "liaison", _("Liaison")


# The area level each role is held at; the Django group of the same name carries its
# permissions (configured in the admin, defaults set by migration).
ROLE_AREA_LEVEL = {
    Role.DISTRICT: AreaLevel.DISTRICT,
    Role.SUBDISTRICT: AreaLevel.SUBDISTRICT,
    Role.COMMUNITY: AreaLevel.COMMUNITY,
    Role.LIAISON: AreaLevel.COMMUNITY,
}
ROLE_GROUP_NAMES = GROUP_NAMES
ROLE_RANK = {Role.DISTRICT: 4, Role.SUBDISTRICT: 3, Role.COMMUNITY: 2, Role.LIAISON: 1}


def current_post_q(prefix: str = "", on: datetime.date | None = None) -> Q:
    """Posts held on ``on`` (today): started, and not yet ended."""
    on = on or timezone.localdate()
    return Q(**{f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on})
    )


class PostQuerySet(ScopedQuerySet):
    def current(self, on: datetime.date | None = None):
        return self.filter(current_post_q(on=on))


class Post(models.Model):
    """A user's role at an area (or a liaison group), from a start date to an end date."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="posts"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="posts"
    )
    liaison_group = models.ForeignKey(
        LiaisonGroup,
        verbose_name=_("liaison group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="posts",
    )
    title = models.CharField(_("title"), max_length=50, blank=True)
    start_date = models.DateField(_("start date"), default=timezone.localdate)
    end_date = models.DateField(_("end date"), null=True, blank=True)

    history = HistoricalRecords()
    objects = PostQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="post_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        where = self.liaison_group or self.area
        return f"{self.user} · {self.get_role_display()} · {where}"

    def clean(self):
        errors = {}
        if self.liaison_group_id:
            if self.role != Role.LIAISON:
                errors["liaison_group"] = _("Only a liaison post belongs to a liaison group.")
            elif not self.area_id:
                self.area = self.liaison_group.community
            elif self.area_id != self.liaison_group.community_id:
                errors["liaison_group"] = _("The liaison group is in another community.")
        if self.area_id and self.role in ROLE_AREA_LEVEL:
            expected = ROLE_AREA_LEVEL[self.role]
            if self.area.level != expected:
                errors["area"] = _("A %(role)s post is held at a %(level)s.") % {
                    "role": self.get_role_display(),
                    "level": AreaLevel(expected).label,
                }
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = _("A post cannot end before it starts.")
        if errors:
            raise ValidationError(errors)

    def is_current(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)


class ExportLog(models.Model):
    """Every export of personal data (append-only): who, when, what, which filter, how many
    rows. Written by ``network.exports.log_export``; district bureau staff read it."""

    append_only = True

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="exports"
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    exporter = models.CharField(_("export"), max_length=50)
    label = models.CharField(_("description"), max_length=200)
    file_format = models.CharField(_("format"), max_length=10)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"))
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("export log entry")
        verbose_name_plural = _("export log")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.label} ({self.row_count})"


class AuditKind(models.TextChoices):
    CREATE = "create", _("created")
    CHANGE = "change", _("changed")
    ARCHIVE = "archive", _("archived")
    RESTORE = "restore", _("restored")
    DELETE = "delete", _("deleted")
    SIGN_IN = "sign_in", _("signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("sign-in failed")
    LOCKED_OUT = "locked_out", _("locked out")
    SIGN_OUT = "sign_out", _("signed out")
    PASSWORD_CHANGE = "password_change", _("password changed")
    TWO_FACTOR = "two_factor", _("two-factor setting changed")
    REVEAL_ID = "reveal_id", _("full ID number revealed")
    EXPORT = "export", _("exported")
    ANONYMISE = "anonymise", _("personal data anonymised")
    PURGE = "purge", _("audit records purged")


class AuditEvent(models.Model):
    """One line of the audit log (append-only): who did what, when, from which address, to
    which record, and what changed. Written by ``network.audit``; district bureau staff
    read and export it; nothing edits or deletes it but the retention purge."""

    append_only = True

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=AuditKind.choices, db_index=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    object_type = models.CharField(_("record type"), max_length=100, blank=True)
    object_id = models.CharField(_("record"), max_length=64, blank=True)
    object_label = models.CharField(_("description"), max_length=200, blank=True)
    changes = models.JSONField(_("what changed"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]
        permissions = [("export_auditevent", _("Can export the audit log"))]

    def __str__(self):
        who = self.username or (self.user.username if self.user_id else "")
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.get_kind_display()} {self.object_label}"
