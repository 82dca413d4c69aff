"""``seed_demo`` adds partner merchants, agreements, consents, cards, their uses and two-way
surveys to the demo district: seed 000's scheme in every sub-district, never in the future,
the same for a seed, and only once."""

import datetime
import io

import pytest
from django.db.models import Count, F, Q
from django.utils import timezone

from network import demo as network_demo
from network.models import Area, AreaLevel
from residents import demo as residents_demo
from services import demo, figures
from services.models import (
    RENEWAL_DAYS,
    Agreement,
    AgreementItem,
    AgreementStatus,
    CardStatus,
    CardUse,
    Consent,
    Merchant,
    MerchantAccount,
    ServiceCard,
    Survey,
    SurveyAnswer,
    UseChannel,
)
from services.uses import merchant_of

MODELS = [Merchant, Agreement, AgreementItem, Consent, ServiceCard, CardUse, Survey, SurveyAnswer]


def build_world(seed=3, households=120, years=2):
    """The demo district and its register, then the services (outreach left out: fast)."""
    out = io.StringIO()
    network_demo.build(seed=seed, stdout=out)
    residents_demo.build(seed=seed, stdout=out, households=households)
    return demo.build(seed=seed, stdout=out, years=years), out.getvalue()


def counts():
    return {model._meta.label: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def seeded(module_db):
    """Built once for the module (tests that build for themselves: test_demo_runs.py)."""
    return build_world()


@pytest.fixture
def built(seeded, db):
    """Each test in a savepoint of the module's seeded database."""
    return seeded


def subdistricts():
    return Area.objects.filter(level=AreaLevel.SUBDISTRICT, code__startswith="320508")


def test_every_subdistrict_has_merchants_cards_uses_and_surveys(built):
    for sub in subdistricts():
        inside = sub.path
        merchants = Merchant.objects.filter(area=sub)
        assert merchants.count() >= 5, sub
        assert len(set(merchants.values_list("category", flat=True))) >= 5, sub
        assert ServiceCard.objects.filter(holder__community__path__startswith=inside).count() >= 10
        assert CardUse.objects.filter(card__holder__community__path__startswith=inside).count() > 30
        assert Survey.objects.filter(household__community__path__startswith=inside).exists()
    assert CardUse.objects.filter(archived_at__isnull=True).count() >= 200
    channels = set(CardUse.objects.values_list("channel", flat=True))
    assert channels == {UseChannel.DESK, UseChannel.TILL}


def test_agreements_in_force_expiring_expired_and_a_draft(built):
    today = timezone.localdate()
    signed = Agreement.objects.filter(status=AgreementStatus.SIGNED)
    in_force = signed.filter(valid_from__lte=today, valid_to__gte=today)
    assert (
        in_force.count()
        > signed.filter(valid_to__lt=today).values("merchant").distinct().count() // 2
    )
    soon = in_force.filter(valid_to__lte=today + datetime.timedelta(days=RENEWAL_DAYS))
    assert soon.count() >= 1
    lapsed = Merchant.objects.exclude(
        agreements__in=in_force
    )  # merchants whose every agreement has expired
    assert lapsed.exists()
    assert Agreement.objects.filter(status=AgreementStatus.DRAFT).exists()
    kinds = set(AgreementItem.objects.values_list("benefit_kind", flat=True))
    assert kinds == {"free", "percent_off", "fixed_price"}
    assert not AgreementItem.objects.filter(usual_price__isnull=True).exists()


def test_cards_follow_the_rules_of_the_scheme(built):
    today = timezone.localdate()
    pingjiang = Area.objects.get(code="320508001000")
    # seed 000: 平江街道 issued 61 三优服务卡 (the register of 120 households has the people)
    assert ServiceCard.objects.filter(issuing_area=pingjiang, scheme="sanyou").count() == 61
    # every holder consented before the card was issued
    for card in ServiceCard.objects.select_related("holder"):
        consent = Consent.objects.filter(person=card.holder, given_on__lte=card.issued_on)
        assert consent.exists(), card
        assert card.issued_on <= today
    # at least one lost card reissued, the new one replacing it; one revoked, its consent gone
    lost = ServiceCard.objects.filter(status=CardStatus.LOST)
    assert lost.exists()
    for card in lost:
        assert card.replaced_by.holder_id == card.holder_id
        assert card.replaced_by.issued_on == card.status_changed_on
    revoked = ServiceCard.objects.filter(status=CardStatus.REVOKED)
    assert revoked.count() >= 1
    for card in revoked:
        assert not Consent.objects.filter(person=card.holder, withdrawn_on__isnull=True).exists()
    # consents waiting for a card
    assert Consent.objects.filter(withdrawn_on__isnull=True, person__service_cards=None).exists()
    numbers = list(ServiceCard.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))


def test_uses_happen_when_card_and_agreement_were_valid(built):
    today = timezone.localdate()
    uses = CardUse.objects.select_related("card", "item__agreement")
    assert not uses.filter(used_on__gt=today).exists()
    assert not uses.filter(used_on__lt=F("card__issued_on")).exists()
    assert not uses.filter(used_on__gt=F("card__valid_until")).exists()
    assert not uses.filter(
        ~Q(card__status=CardStatus.ACTIVE), used_on__gte=F("card__status_changed_on")
    ).exists()
    assert not uses.filter(used_on__lt=F("item__agreement__valid_from")).exists()
    assert not uses.filter(used_on__gt=F("item__agreement__valid_to")).exists()
    assert not uses.exclude(item__agreement__status=AgreementStatus.SIGNED).exists()
    assert not uses.exclude(merchant=F("item__agreement__merchant")).exists()
    assert not uses.filter(value_after__gt=F("value_before")).exists()
    # a merchant serves the holder's community
    for use in uses.select_related("card__holder"):
        assert use.merchant.serves.filter(pk=use.card.holder.community_id).exists()
    # till uses are recorded by the merchant's own till login
    for use in uses.filter(channel=UseChannel.TILL).select_related("recorded_by"):
        assert merchant_of(use.recorded_by) == use.merchant


def test_till_logins_and_figures(built):
    logins, _output = built
    usernames = [row[0] for row in logins]
    assert usernames == ["majilamian", "hongtaiyang", "lanzhoumian"]
    for username, password, _role, where in logins:
        account = MerchantAccount.objects.select_related("user", "merchant").get(
            user__username=username
        )
        assert account.user.check_password(password)
        assert account.merchant.name == where
        assert not account.user.posts.exists()  # a till holds no post
    district = Area.objects.get(code="320508000000")
    today = timezone.localdate()
    start = today - datetime.timedelta(days=365)
    found = figures.all_figures(district, start, today)
    for key in ("merchants", "agreements_in_force", "cards_issued", "cards_active", "card_uses"):
        assert found[key] > 0, key
    assert found["benefit_value"] > 0
    assert found["agreements_by_category"]


def test_surveys_name_a_member_and_some_households_twice(built):
    assert not Survey.objects.exclude(respondent__household=F("household")).exists()
    assert SurveyAnswer.objects.filter(direction="wants").exists()
    assert SurveyAnswer.objects.filter(direction="offers").exists()
    twice = Survey.objects.values("household").annotate(n=Count("id")).filter(n__gt=1)
    assert twice.exists()


def test_build_again_keeps_everything(built):
    before = counts()
    logins, output = build_world()
    assert counts() == before
    assert "keeping" in output
    assert [row[0] for row in logins] == ["majilamian", "hongtaiyang", "lanzhoumian"]


class _Rollback(Exception):
    pass
