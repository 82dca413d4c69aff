"""The register (逐户逐人登记造册, seed 000): households and the persons in them.

Households and persons are archived (``archived_at``), never deleted. Each person carries a
copy of its household's community (``community``), kept in step by ``Person.save`` and by
``operations.household_move``, so scoping a 100,000-person list joins one small table.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from network.access import ScopedQuerySet
from network.models import Area, AreaLevel
from network.versioning import bump_version
from residents.id_numbers import mask_id_number


class Ethnicity(models.Model):
    """GB/T 3304 groups, loaded by migration; a reference table, not edited in the app."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=30, unique=True)
    romanization = models.CharField(_("romanization"), max_length=30, blank=True)
    letter_code = models.CharField(_("letter code"), max_length=2, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("ethnic group")
        verbose_name_plural = _("ethnic groups")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def is_minority(self) -> bool:
        return self.code != "01"


class RegistrationKind(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    FLOATING = "floating", _("Floating (流动)")
    TEMPORARY = "temporary", _("Temporary residence (暂住)")


class ResidenceKind(models.TextChoices):
    COMPOUND = "compound", _("Residential compound")
    WORK_UNIT = "work_unit", _("Work unit")
    NEW_ORGANISATION = "new_org", _("New economic or social organisation (两新组织)")
    OTHER = "other", _("Other")


class IncomeBand(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    BELOW_DIBAO = "below_dibao", _("Below the dibao standard")
    LOW = "low", _("Up to 1.5 × the dibao standard")
    MODERATE = "moderate", _("1.5 to 3 × the dibao standard")
    ABOVE = "above", _("Above 3 × the dibao standard")


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MOVED_AWAY = "moved_away", _("Moved away")
    CLOSED = "closed", _("Closed")


class HouseholdQuerySet(ScopedQuerySet):
    def current(self):
        return self.filter(archived_at__isnull=True)


class Household(models.Model):
    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    ledger_number = models.CharField(
        _("household number"), max_length=30, blank=True, help_text=_("户号 in the paper ledger")
    )
    address = models.CharField(_("address"), max_length=200)
    registration_kind = models.CharField(
        _("registration"),
        max_length=20,
        choices=RegistrationKind.choices,
        default=RegistrationKind.REGISTERED,
        db_index=True,
    )
    residence_kind = models.CharField(
        _("residence kind"),
        max_length=20,
        choices=ResidenceKind.choices,
        default=ResidenceKind.COMPOUND,
        db_index=True,
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # hardship flags (困难户)
    is_dibao = models.BooleanField(_("dibao (低保)"), default=False, db_index=True)
    dibao_persons = models.PositiveSmallIntegerField(
        _("persons covered by dibao"),
        null=True,
        blank=True,
        help_text=_("Leave empty when every active member is covered."),
    )
    is_low_income = models.BooleanField(_("low income"), default=False)
    has_disability = models.BooleanField(_("disability"), default=False)
    is_elderly_alone = models.BooleanField(_("elderly living alone"), default=False)
    has_serious_illness = models.BooleanField(_("serious illness"), default=False)
    other_hardship = models.CharField(_("other hardship"), max_length=100, blank=True)
    income_band = models.CharField(
        _("per-capita income"), max_length=20, choices=IncomeBand.choices, blank=True, default=""
    )
    notes = models.TextField(_("notes"), blank=True)
    moved_in_on = models.DateField(_("moved in on"), null=True, blank=True)
    moved_out_on = models.DateField(_("moved out on"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=HouseholdStatus.choices,
        default=HouseholdStatus.ACTIVE,
        db_index=True,
    )
    # A handover to another sub-district: sent by the old one, accepted by the new one.
    handover_to = models.ForeignKey(
        Area,
        verbose_name=_("handed over to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incoming_households",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    handover_sent_at = models.DateTimeField(_("handover sent at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(
        _("version"), default=1, editable=False, help_text=_("Raised by every saved edit.")
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = HouseholdQuerySet.as_manager()
    scope_area_field = "community"

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["community__path", "address", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "ledger_number"],
                condition=~Q(ledger_number=""),
                name="household_number_unique_in_community",
            ),
        ]
        permissions = [
            ("import_households", _("Can import the resident ledger")),
            ("export_households", _("Can export the resident ledger")),
            ("hand_over_household", _("Can hand a household over to another sub-district")),
            ("merge_records", _("Can merge duplicate persons and households")),
        ]

    def __str__(self):
        return self.address

    def save(self, *args, **kwargs):
        bump_version(self, kwargs)  # every saved change makes an open edit form stale
        super().save(*args, **kwargs)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def hardship_labels(self) -> list[str]:
        labels = []
        for flag in (
            "is_dibao",
            "is_low_income",
            "has_disability",
            "is_elderly_alone",
            "has_serious_illness",
        ):
            if getattr(self, flag):
                labels.append(str(self._meta.get_field(flag).verbose_name))
        if self.other_hardship:
            labels.append(self.other_hardship)
        return labels

    @property
    def is_hardship(self) -> bool:
        return bool(self.hardship_labels)

    def clean(self):
        if self.community_id and self.community.level != AreaLevel.COMMUNITY:
            raise ValidationError({"community": _("A household belongs to a community.")})
        if self.moved_in_on and self.moved_out_on and self.moved_out_on < self.moved_in_on:
            raise ValidationError({"moved_out_on": _("Moving out cannot come before moving in.")})


class HonourKind(models.TextChoices):
    MODEL_FAMILY = "model_family", _("Ethnic-unity model family (民族团结文明家庭)")
    FEATURED_BUILDING = "featured_building", _("Featured building (特色楼组)")
    OTHER = "other", _("Other honour")


class Honour(models.Model):
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="honours"
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(1949), MaxValueValidator(2100)]
    )
    kind = models.CharField(_("honour"), max_length=30, choices=HonourKind.choices)
    title = models.CharField(_("title"), max_length=100, blank=True)
    awarded_by = models.CharField(_("awarded by"), max_length=100, blank=True)

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "household__community"

    class Meta:
        verbose_name = _("honour")
        verbose_name_plural = _("honours")
        ordering = ["-year", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "year", "kind"], name="one_honour_of_a_kind_per_year"
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.get_kind_display()}"


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    OTHER = "other", _("Other")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Education(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    NONE = "none", _("No schooling")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary")
    SENIOR = "senior", _("Senior secondary / vocational")
    COLLEGE = "college", _("College")
    BACHELOR = "bachelor", _("Bachelor")
    POSTGRADUATE = "postgraduate", _("Postgraduate")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MOVED_AWAY = "moved_away", _("Moved away")
    DECEASED = "deceased", _("Deceased")


class PersonQuerySet(ScopedQuerySet):
    def current(self):
        return self.filter(archived_at__isnull=True)


class Person(models.Model):
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )
    community = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", editable=False
    )  # copy of household.community, for scoping without a second join
    relation = models.CharField(
        _("relation to head"), max_length=20, choices=Relation.choices, default=Relation.HEAD
    )
    name = models.CharField(_("name"), max_length=50, db_index=True)
    name_pinyin = models.CharField(max_length=200, editable=False, db_index=True, default="")
    name_initials = models.CharField(max_length=50, editable=False, db_index=True, default="")
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    ethnicity = models.ForeignKey(
        Ethnicity, verbose_name=_("ethnicity"), on_delete=models.PROTECT, related_name="persons"
    )
    id_number = models.CharField(_("citizen ID number"), max_length=18, blank=True, db_index=True)
    id_number_reversed = models.CharField(max_length=18, editable=False, db_index=True, default="")
    birth_date = models.DateField(_("birth date"), null=True, blank=True, db_index=True)
    mobile = models.CharField(_("mobile phone"), max_length=20, blank=True)
    workplace = models.CharField(_("workplace"), max_length=100, blank=True)
    education = models.CharField(
        _("education"), max_length=20, choices=Education.choices, blank=True, default=""
    )
    is_key_person = models.BooleanField(_("key person (重点人士)"), default=False)
    is_volunteer = models.BooleanField(_("volunteer"), default=False, db_index=True)
    is_association_member = models.BooleanField(_("friendship-association member"), default=False)
    residence_permit_number = models.CharField(
        _("residence permit number"), max_length=30, blank=True
    )
    residence_permit_expires_on = models.DateField(
        _("residence permit expires on"), null=True, blank=True, db_index=True
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PersonStatus.choices,
        default=PersonStatus.ACTIVE,
        db_index=True,
    )
    status_changed_on = models.DateField(_("status changed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(
        _("version"), default=1, editable=False, help_text=_("Raised by every saved edit.")
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = PersonQuerySet.as_manager()
    scope_area_field = "community"

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["household_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(status="active", archived_at__isnull=True) & ~Q(id_number=""),
                name="id_number_unique_among_active_persons",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "archived_at", "id"], name="person_list_idx"),
            models.Index(fields=["ethnicity", "community"], name="person_ethnicity_idx"),
            # Where a community's persons start in the register's order (scope_start_q).
            models.Index(fields=["community", "household"], name="person_community_household_idx"),
            # The register's order (household, id) over current persons; on PostgreSQL it
            # also carries the community, so a page is found without visiting the table.
            models.Index(
                fields=["household", "id"],
                include=["community"],
                condition=Q(archived_at__isnull=True, status="active"),
                name="person_current_order_idx",
            ),
        ]
        permissions = [
            ("view_full_id_number", _("Can reveal full ID numbers")),
            ("view_sensitive", _("Can see ethnicity, income and hardship unmasked")),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.community_id = self.household.community_id
        self.name = self.name.strip()
        self.fill_search_fields()
        bump_version(self, kwargs)  # every saved change makes an open edit form stale
        super().save(*args, **kwargs)

    def fill_search_fields(self):
        """Set the stored search keys from name and ID number. save() calls it; code that
        writes with bulk_create/bulk_update (which skip save) calls it itself."""
        from residents.names import initials_of, pinyin_of

        self.name_pinyin = pinyin_of(self.name)[:200]
        self.name_initials = initials_of(self.name)[:50]
        self.id_number_reversed = self.id_number[::-1]

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def age_on(self, day=None) -> int | None:
        return age_in_years(self.birth_date, day or timezone.localdate())


def age_in_years(birth_date: datetime.date | None, day: datetime.date) -> int | None:
    """Whole years from ``birth_date`` to ``day`` (None without a birth date)."""
    if not birth_date:
        return None
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


class DibaoStandard(models.Model):
    """Local dibao standard (yuan per person per month) and the minority supplement rate for
    an area and year. Seed 000: Suzhou pays minority dibao households 20% above the standard.
    The nearest area up the tree with a standard for the year applies."""

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="dibao_standards"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    monthly_standard = models.DecimalField(
        _("standard (yuan per person per month)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    supplement_rate = models.DecimalField(
        _("supplement rate"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.200"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
        help_text=_("0.200 means 20% above the standard."),
    )

    history = HistoricalRecords()
    objects = ScopedQuerySet.as_manager()
    scope_area_field = "area"

    class Meta:
        verbose_name = _("dibao standard")
        verbose_name_plural = _("dibao standards")
        ordering = ["-year", "area__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "year"], name="one_dibao_standard_per_area_year"
            )
        ]

    def __str__(self):
        return f"{self.area} {self.year}: {self.monthly_standard}"


class IdNumberReveal(models.Model):
    """Each time someone looked at a full ID number (append-only)."""

    append_only = True

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="id_reveals")
    user = models.ForeignKey("network.User", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_area_field = "person__community"

    class Meta:
        verbose_name = _("ID number reveal")
        verbose_name_plural = _("ID number reveals")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} → {self.person}"


# ------------------------------------------------------ for the apps built on the register


class CaseworkQuerySet(ScopedQuerySet):
    def current(self):
        return self.filter(archived_at__isnull=True)


class Archivable(models.Model):
    """Archived, never deleted: ``archived_at`` hides a record from lists until restored."""

    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
