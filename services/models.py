"""Partner merchants and the service-card scheme (seed 000: 三优服务, 社区灵通服务卡).

A street office or community signs an agreement with a merchant (items: what is offered and
the benefit), issues numbered cards to minority residents who consented to be known to
partner merchants, and counts the uses of the cards (人次) and the value of the benefits.
Casework records are archived, never deleted, and keep their history. Each model names its
area for the scoping in ``network.access`` (``scope_area_field``).
"""

import datetime
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from network.models import Area, AreaLevel
from residents.models import Archivable, CaseworkQuerySet, Household, Person
from residents.typed_input import MAX_YUAN

CENT = Decimal("0.01")
RENEWAL_DAYS = 60  # agreements ending within this many days are listed for renewal


class ServiceCategory(models.TextChoices):
    """Seed 000's service trades, plus what a two-way survey commonly names."""

    MEDICAL = "medical", _("medical care")
    RENOVATION = "renovation", _("home renovation")
    APPLIANCE = "appliance", _("appliance repair")
    TAILORING = "tailoring", _("tailoring")
    CONSULTING = "consulting", _("consulting (legal, psychological)")
    HOUSEKEEPING = "housekeeping", _("housekeeping")
    MOVING = "moving", _("moving")
    HAIRDRESSING = "hairdressing", _("hairdressing")
    HALAL_FOOD = "halal_food", _("halal food")
    EDUCATION = "education", _("tutoring and training")
    EMPLOYMENT = "employment", _("employment help")
    OTHER = "other", _("other")


class Merchant(Archivable):
    """服务网点 / 签约商户: a firm or shop that signs service agreements."""

    area = models.ForeignKey(
        Area,
        verbose_name=_("managing area"),
        on_delete=models.PROTECT,
        related_name="merchants",
        limit_choices_to={"level__in": [AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY]},
        help_text=_("The street office or community that signs with the merchant."),
    )
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=ServiceCategory.choices)
    address = models.CharField(_("address"), max_length=200)
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    licence_number = models.CharField(
        _("licence number"),
        max_length=18,
        blank=True,
        help_text=_("Unified social credit code (18 characters) of the business licence."),
    )
    serves = models.ManyToManyField(
        Area, verbose_name=_("areas served"), blank=True, related_name="served_by_merchants"
    )
    note = models.TextField(_("note"), blank=True)
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    history = HistoricalRecords(m2m_fields=[serves])
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "area"
    scope_shared_below = True  # a sub-district's merchants are seen by its communities

    class Meta:
        verbose_name = _("partner merchant")
        verbose_name_plural = _("partner merchants")
        ordering = ["name", "id"]
        permissions = [("export_services", "Can export services lists")]
        constraints = [
            models.UniqueConstraint(
                fields=["licence_number"],
                condition=~Q(licence_number=""),
                name="merchant_licence_unique",
                violation_error_message=_("A merchant with this licence number exists."),
            )
        ]
        indexes = [models.Index(fields=["area", "archived_at", "name"], name="merchant_list_idx")]

    def __str__(self):
        return self.name


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SIGNED = "signed", _("signed")
    TERMINATED = "terminated", _("terminated")


def agreement_document_path(agreement, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"agreements/{timezone.localdate():%Y}/{uuid.uuid4().hex}.{suffix}"


class Agreement(Archivable):
    """服务协议: what a merchant offers card holders, from a date to a date."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="agreements"
    )
    area = models.ForeignKey(
        Area,
        verbose_name=_("signing area"),
        on_delete=models.PROTECT,
        related_name="service_agreements",
        limit_choices_to={"level__in": [AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY]},
    )
    number = models.CharField(_("agreement number"), max_length=50, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    status = models.CharField(
        _("status"), max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    document = models.FileField(
        _("scanned agreement"), upload_to=agreement_document_path, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "area"
    scope_shared_below = True

    class Meta:
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")
        ordering = ["-valid_to", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__lte=models.F("valid_to")),
                name="agreement_valid_from_before_to",
                violation_error_message=_("The agreement must start before it ends."),
            ),
        ]
        indexes = [models.Index(fields=["status", "valid_to"], name="agreement_validity_idx")]

    def __str__(self):
        label = self.number or f"{self.valid_from:%Y-%m-%d}–{self.valid_to:%Y-%m-%d}"
        return f"{self.merchant} · {label}"

    def clean(self):
        errors = {}
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            errors["valid_to"] = _("The agreement must start before it ends.")
        if self.status == AgreementStatus.SIGNED and not self.signed_on:
            errors["signed_on"] = _("A signed agreement needs its signing date.")
        if self.status == AgreementStatus.TERMINATED and not self.terminated_on:
            errors["terminated_on"] = _("A terminated agreement needs the date it ended.")
        if errors:
            raise ValidationError(errors)

    def in_force_on(self, day: datetime.date) -> bool:
        """Accepts uses on ``day``: signed, not archived, and ``day`` within its validity
        (and before a termination)."""
        if self.status != AgreementStatus.SIGNED or self.is_archived:
            return False
        return self.valid_from <= day <= self.valid_to

    def shown_status(self, today: datetime.date) -> str:
        """What a user needs to know today: draft, not yet in force, in force, expired,
        terminated."""
        if self.status == AgreementStatus.SIGNED:
            if today < self.valid_from:
                return str(_("not yet in force"))
            if today > self.valid_to:
                return str(_("expired"))
            return str(_("in force"))
        return self.get_status_display()


class BenefitKind(models.TextChoices):
    FREE = "free", _("free")
    PERCENT_OFF = "percent_off", _("percentage off")
    FIXED_PRICE = "fixed_price", _("fixed price")


class AgreementItem(models.Model):
    """One service of an agreement and the benefit a card holder gets."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.PROTECT, related_name="items"
    )
    category = models.CharField(_("category"), max_length=20, choices=ServiceCategory.choices)
    description = models.CharField(_("service"), max_length=200)
    benefit_kind = models.CharField(_("benefit"), max_length=20, choices=BenefitKind.choices)
    percent_off = models.DecimalField(
        _("percent off"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("99.99"))],
    )
    fixed_price = models.DecimalField(
        _("fixed price (yuan)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_YUAN)],
    )
    usual_price = models.DecimalField(
        _("usual price (yuan)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_YUAN)],
        help_text=_("What the service costs without a card; filled in at the till."),
    )
    conditions = models.CharField(_("conditions"), max_length=200, blank=True)
    is_withdrawn = models.BooleanField(_("withdrawn"), default=False)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "agreement__area"
    scope_shared_below = True

    class Meta:
        verbose_name = _("agreement item")
        verbose_name_plural = _("agreement items")
        ordering = ["agreement", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(benefit_kind="free", percent_off__isnull=True, fixed_price__isnull=True)
                    | Q(
                        benefit_kind="percent_off",
                        percent_off__gt=0,
                        percent_off__lt=100,
                        fixed_price__isnull=True,
                    )
                    | Q(benefit_kind="fixed_price", percent_off__isnull=True, fixed_price__gte=0)
                ),
                name="agreement_item_benefit_fits_kind",
                violation_error_message=_("The benefit does not fit its kind."),
            )
        ]

    def __str__(self):
        return f"{self.description} · {self.benefit_text}"

    def clean(self):
        errors = {}
        if self.benefit_kind == BenefitKind.PERCENT_OFF:
            if self.percent_off is None:
                errors["percent_off"] = _("Say how many per cent off.")
            self.fixed_price = None
        elif self.benefit_kind == BenefitKind.FIXED_PRICE:
            if self.fixed_price is None:
                errors["fixed_price"] = _("Say the fixed price.")
            self.percent_off = None
        elif self.benefit_kind == BenefitKind.FREE:
            self.percent_off = None
            self.fixed_price = None
        if errors:
            raise ValidationError(errors)

    @property
    def benefit_text(self) -> str:
        if self.benefit_kind == BenefitKind.PERCENT_OFF and self.percent_off is not None:
            percent = format(Decimal(str(self.percent_off)).normalize(), "f")  # int when typed
            return str(_("%(percent)s%% off")) % {"percent": percent}
        if self.benefit_kind == BenefitKind.FIXED_PRICE and self.fixed_price is not None:
            return str(_("fixed price ¥%(price)s")) % {"price": self.fixed_price}
        return self.get_benefit_kind_display()

    def price_after(self, before: Decimal) -> Decimal:
        """What the card holder pays for a service worth ``before`` yuan."""
        if self.benefit_kind == BenefitKind.FREE:
            return Decimal("0.00")
        if self.benefit_kind == BenefitKind.PERCENT_OFF:
            share = (Decimal(100) - self.percent_off) / Decimal(100)
            return (before * share).quantize(CENT, rounding=ROUND_HALF_UP)
        return min(before, self.fixed_price).quantize(CENT)


# ---------------------------------------------------------------- consent and cards


class Consent(models.Model):
    """A resident's consent to be known to partner merchants (their name is shown masked at
    the till). No card is issued without a current consent."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="merchant_consents"
    )
    given_on = models.DateField(_("given on"))
    form_reference = models.CharField(
        _("signed form"), max_length=50, blank=True, help_text=_("Number of the paper form.")
    )
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "person__community"

    class Meta:
        verbose_name = _("consent to partner merchants")
        verbose_name_plural = _("consents to partner merchants")
        ordering = ["-given_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(withdrawn_on__isnull=True),
                name="one_current_consent_per_person",
                violation_error_message=_("This person's consent is already recorded."),
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("given_on")),
                name="consent_withdrawn_after_given",
                violation_error_message=_("Consent cannot be withdrawn before it was given."),
            ),
        ]
        # the consent list's order (newest first, read backwards)
        indexes = [models.Index(fields=["given_on", "id"], name="consent_order_idx")]

    def __str__(self):
        return f"{self.person} · {self.given_on:%Y-%m-%d}"

    @property
    def is_current(self) -> bool:
        return self.withdrawn_on is None


class CardScheme(models.TextChoices):
    LINGTONG = "lingtong", _("community service card (社区灵通服务卡)")
    SANYOU = "sanyou", _("three-priority service card (三优服务卡)")


class CardStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    LOST = "lost", _("lost")
    REVOKED = "revoked", _("revoked")


class ServiceCard(models.Model):
    """A numbered service card issued to a resident. Cards are never deleted: a lost card
    is marked lost and a new one issued (``replaces``), a withdrawn one revoked."""

    number = models.CharField(_("card number"), max_length=12, unique=True)
    scheme = models.CharField(
        _("card"), max_length=20, choices=CardScheme.choices, default=CardScheme.LINGTONG
    )
    holder = models.ForeignKey(
        Person, verbose_name=_("holder"), on_delete=models.PROTECT, related_name="service_cards"
    )
    issuing_area = models.ForeignKey(
        Area,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="issued_service_cards",
    )
    issued_on = models.DateField(_("issued on"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=20, choices=CardStatus.choices, default=CardStatus.ACTIVE
    )
    status_changed_on = models.DateField(_("status changed on"), null=True, blank=True)
    status_reason = models.CharField(_("reason"), max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces card"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by (staff)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "holder__community"

    class Meta:
        verbose_name = _("service card")
        verbose_name_plural = _("service cards")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "scheme"],
                condition=Q(status="active"),
                name="one_active_card_per_holder_and_scheme",
                violation_error_message=_("This person already holds an active card."),
            ),
            models.CheckConstraint(
                condition=Q(issued_on__lte=models.F("valid_until")),
                name="card_issued_before_valid_until",
                violation_error_message=_("A card must be valid after the day it is issued."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="card_validity_idx"),
            models.Index(fields=["issued_on"], name="card_issued_idx"),
            # the card list's order (newest first, read backwards)
            models.Index(fields=["issued_on", "id"], name="card_order_idx"),
        ]

    def __str__(self):
        return self.display_number

    @property
    def display_number(self) -> str:
        """The number in groups as printed: 002-000042-7."""
        n = self.number
        return f"{n[:3]}-{n[3:-1]}-{n[-1]}" if len(n) == 10 else n

    def effective_status(self, today: datetime.date) -> str:
        """``active``, ``lost``, ``revoked`` or ``expired`` (an active card past its date)."""
        if self.status == CardStatus.ACTIVE and self.valid_until < today:
            return "expired"
        return self.status

    def shown_status(self, today: datetime.date) -> str:
        status = self.effective_status(today)
        return str(_("expired")) if status == "expired" else self.get_status_display()


class UseChannel(models.TextChoices):
    DESK = "desk", _("recorded by staff")
    TILL = "till", _("recorded by the merchant")


class CardUse(Archivable):
    """One use of a card at a merchant (一人次): the service, its value and what the holder
    paid. A use recorded by mistake is archived (voided) with a reason, never deleted."""

    card = models.ForeignKey(
        ServiceCard, verbose_name=_("card"), on_delete=models.PROTECT, related_name="uses"
    )
    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="card_uses"
    )
    item = models.ForeignKey(
        AgreementItem, verbose_name=_("service"), on_delete=models.PROTECT, related_name="uses"
    )
    used_on = models.DateField(_("date"), default=timezone.localdate)
    value_before = models.DecimalField(
        _("value (yuan)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_YUAN)],
    )
    value_after = models.DecimalField(
        _("paid (yuan)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_YUAN)],
    )
    channel = models.CharField(
        _("recorded"), max_length=10, choices=UseChannel.choices, default=UseChannel.DESK
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "card__holder__community"

    class Meta:
        verbose_name = _("card use")
        verbose_name_plural = _("card uses")
        ordering = ["-used_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value_after__lte=models.F("value_before"), value_after__gte=0),
                name="card_use_paid_within_value",
                violation_error_message=_("What was paid cannot exceed the value."),
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "used_on"], name="card_use_merchant_idx"),
            models.Index(fields=["used_on"], name="card_use_date_idx"),
            # the use list's order (newest first, read backwards)
            models.Index(fields=["used_on", "id"], name="card_use_order_idx"),
        ]

    def __str__(self):
        return f"{self.card} · {self.merchant} · {self.used_on:%Y-%m-%d}"

    @property
    def benefit(self) -> Decimal:
        return self.value_before - self.value_after


class MerchantAccount(models.Model):
    """The login of a merchant's till: it sees its own merchant and nothing else."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="merchant_account",
    )
    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="accounts"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "merchant__area"

    class Meta:
        verbose_name = _("merchant account")
        verbose_name_plural = _("merchant accounts")

    def __str__(self):
        return f"{self.user} · {self.merchant}"


# ---------------------------------------------------------------- two-way survey


class SurveyDirection(models.TextChoices):
    WANTS = "wants", _("wants")
    OFFERS = "offers", _("can offer")


class Survey(Archivable):
    """双向服务意向调查表: what a household wants and what it can offer."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="service_surveys",
    )
    respondent = models.ForeignKey(
        Person,
        verbose_name=_("respondent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    surveyed_on = models.DateField(_("surveyed on"), default=timezone.localdate)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "household__community"

    class Meta:
        verbose_name = _("two-way service survey")
        verbose_name_plural = _("two-way service surveys")
        ordering = ["-surveyed_on", "-id"]

    def __str__(self):
        return f"{self.household} · {self.surveyed_on:%Y-%m-%d}"


class SurveyAnswer(models.Model):
    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="answers"
    )
    direction = models.CharField(_("direction"), max_length=10, choices=SurveyDirection.choices)
    category = models.CharField(_("category"), max_length=20, choices=ServiceCategory.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    history = HistoricalRecords()
    objects = CaseworkQuerySet.as_manager()
    scope_area_field = "survey__household__community"

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "direction", "category"], name="survey_answer_once"
            )
        ]

    def __str__(self):
        return f"{self.get_direction_display()} · {self.get_category_display()}"
