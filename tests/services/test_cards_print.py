"""The printed card and the public page its QR code opens: the code carries only the signed
link (no name, no ID), the page says whether the card is valid and nothing of its holder, a
forged link is a friendly 404, a merchant's till gets a button to record a use."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
import segno
from django.core import signing
from django.urls import resolve, reverse
from django.utils import timezone

from residents.models import Household, Person
from services.cards import verification_path
from services.models import CardStatus, ServiceCard
from services.qr import qr_svg

pytestmark = pytest.mark.django_db

SHEET = reverse("services:card-print-sheet")


def print_url(card):
    return reverse("services:card-print", kwargs={"pk": card.pk})


def token_of(url: str) -> str:
    match = resolve(urlsplit(url).path)
    assert match.view_name == "services:card-verify"
    return match.kwargs["token"]


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, flags=re.S)


# ---------------------------------------------------------------- the printed card


def test_the_printed_card_carries_only_the_signed_link(world, partners, register, login):
    card = partners.ma_card
    response = login(world.pingjiang_staff).get(print_url(card))
    page = response.content.decode()
    assert response.status_code == 200
    shown = response.context["card"]
    url = shown.verify_url
    assert url.startswith("http://testserver/services/cards/v/")
    # the page's QR code is exactly segno's code of that link, and nothing else
    assert svgs(page) == [qr_svg(url)]
    assert (
        segno.make(url, error="m", micro=False).svg_inline(
            scale=1, border=2, omitsize=True, svgclass="tx-card-qr", lineclass=None
        )
        in page
    )
    # the link names the card, by its number only
    token = token_of(url)
    assert signing.loads(token, salt="tongxin.services.card") == card.number
    for personal in (register.ma_xiaodong.name, register.ma_xiaodong.id_number, "马"):
        assert personal not in url
    # the card itself: number in groups, holder, issuer, valid until
    assert card.display_number in page
    assert "马晓东" in page
    assert "平江街道" in page and "同心" in page
    assert card.valid_until.isoformat() in page
    assert register.ma_xiaodong.id_number not in page
    assert "card-print.css" in page and "<script>" not in page


def test_the_link_in_the_code_opens_the_cards_check(world, partners, client, login):
    url = login(world.pingjiang_staff).get(print_url(partners.ma_card)).context["card"].verify_url
    client.logout()
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200
    assert response.context["card"].number == partners.ma_card.number


def test_a_lost_card_is_not_printed(world, partners, login):
    response = login(world.pingjiang_staff).get(print_url(partners.bai_lost))
    assert response.status_code == 200
    assert response.context["printable"] is False
    assert svgs(response.content.decode()) == []


def test_the_a4_sheet_prints_the_selected_active_cards(world, partners, login):
    p = partners
    ids = [p.ma_card.pk, p.bai_card.pk, p.bai_lost.pk, p.ayt_card.pk, "x", "99999999999999999999"]
    response = login(world.pingjiang_staff).get(SHEET, {"card": ids})
    assert response.status_code == 200
    [sheet] = response.context["sheets"]
    assert sheet == [p.ma_card, p.bai_card]  # 沧浪's card is left out without a word
    assert response.context["skipped"] == [p.bai_lost]
    page = response.content.decode()
    assert len(svgs(page)) == 2
    assert p.ayt_card.display_number not in page
    for card in sheet:
        assert qr_svg(card.verify_url) in page


def test_cards_fill_sheets_of_ten(world, partners, register, login):
    from tests.services.test_cards_list import make_cards

    make_cards(register.ma_household, "001", 12, 0)
    ids = list(ServiceCard.objects.filter(number__startswith="0019").values_list("pk", flat=True))
    response = login(world.pingjiang_staff).get(SHEET, {"card": ids})
    assert [len(sheet) for sheet in response.context["sheets"]] == [10, 2]


# ---------------------------------------------------------------- the public check


def verify_url(card):
    return verification_path(card)


def test_an_active_card_is_valid_and_nothing_personal_shows(partners, register, client):
    response = client.get(verify_url(partners.ma_card))
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["valid"] is True
    assert partners.ma_card.display_number in page
    assert "平江街道" in page
    assert partners.ma_card.valid_until.isoformat() in page
    assert '<meta name="robots" content="noindex' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert {"no-store", "private"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    person = register.ma_xiaodong
    for personal in (person.name, "马*东", person.id_number, "平江路", "112号"):
        assert personal not in page
    assert response.context["till_url"] is None and response.context["detail_url"] is None


def context_values(response):
    for context in response.context:
        for layer in context.dicts:
            yield from layer.values()


@pytest.mark.parametrize("who", [None, "pingjiang_staff", "canglang_staff"])
def test_no_record_of_the_holder_reaches_the_check(world, partners, login, client, who):
    """Not even the card record (whose holder a template could follow) is in the context."""
    client = login(getattr(world, who)) if who else client
    response = client.get(verify_url(partners.ma_card))
    assert response.status_code == 200
    for value in context_values(response):
        assert not isinstance(value, (Person, Household, ServiceCard)), value
    assert response.context["card"].number == partners.ma_card.number


@pytest.mark.parametrize("who", [None, "pingjiang_staff"])
def test_the_check_is_never_kept_by_a_shared_cache(world, partners, login, client, who):
    """A till or staff see a button the public does not: no cache may serve it to another."""
    client = login(getattr(world, who)) if who else client
    for path in (verify_url(partners.ma_card), "/services/cards/v/x/"):
        cache = set(client.get(path)["Cache-Control"].replace(" ", "").split(","))
        assert {"no-store", "private", "no-cache"} <= cache, path


def test_a_forged_link_and_an_unknown_card_look_the_same(partners, client):
    """Only a link we signed opens a card, and a signed link to no card tells nothing more
    than a forged one: the card numbers cannot be tried one by one."""
    unknown = signing.dumps("0019999999", salt="tongxin.services.card")
    signed = signing.dumps(partners.ma_card.number, salt="tongxin.services.card")
    forged = signed[:-1] + ("B" if signed.endswith("A") else "A")  # always a changed signature
    pages = []
    for token in (unknown, forged):
        path = f"/services/cards/v/{token}/"
        response = client.get(path)
        page = response.content.decode().replace(path, "PATH")  # the language form's "next"
        page = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", page)
        pages.append((response.status_code, response["X-Robots-Tag"], page))
    assert pages[0] == pages[1]
    assert pages[0][0] == 404 and partners.ma_card.display_number not in pages[0][2]


def test_a_card_not_yet_in_its_term_is_not_valid(partners, client):
    """The check asks the till's own rule (services.uses.refuse_card)."""
    card = partners.bai_card
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    ServiceCard.objects.filter(pk=card.pk).update(issued_on=tomorrow)
    response = client.get(verify_url(card))
    assert response.context["effective"] == CardStatus.ACTIVE
    assert response.context["valid"] is False


@pytest.mark.parametrize(
    ("card_name", "status"),
    [("bai_lost", CardStatus.LOST), ("bai_card", CardStatus.ACTIVE), ("ayt_card", "revoked")],
)
def test_the_check_shows_each_status(partners, client, card_name, status):
    card = getattr(partners, card_name)
    if status == "revoked":
        ServiceCard.objects.filter(pk=card.pk).update(status=CardStatus.REVOKED)
    response = client.get(verify_url(card))
    assert response.status_code == 200
    assert response.context["effective"] == status
    assert response.context["valid"] is (status == CardStatus.ACTIVE)
    assert card.holder.name not in response.content.decode()


def test_an_expired_card_shows_as_expired(partners, client):
    card = partners.ma_card
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ServiceCard.objects.filter(pk=card.pk).update(valid_until=yesterday)
    response = client.get(verify_url(card))
    assert response.context["effective"] == "expired"
    assert response.context["valid"] is False


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "IjAwMTAwMDAwMTYi:1uAbCd:forgedsignatureforgedsignature",
        "\x00",
        "a" * 5000,
        signing.dumps("0010000016", salt="another.salt"),
        signing.dumps("0019999999", salt="tongxin.services.card"),  # well signed, no such card
        signing.dumps(["0010000016"], salt="tongxin.services.card"),
    ],
)
def test_a_forged_or_garbled_link_is_a_friendly_404(partners, client, token):
    response = client.get(f"/services/cards/v/{token}/")
    assert response.status_code == 404
    assert "services/cards/verify_unknown.html" in [t.name for t in response.templates]


def test_a_merchant_till_gets_a_button_to_record_a_use(partners, login):
    card = partners.ma_card
    response = login(partners.lamian_till).get(verify_url(card))
    expected = f"{reverse('services:till-card')}?number={card.number}"
    assert response.context["till_url"] == expected
    assert f'href="{expected}"' in response.content.decode()
    assert response.context["detail_url"] is None
    assert card.holder.name not in response.content.decode()


def test_staff_who_may_see_the_card_get_a_link_to_it(world, partners, login):
    card = partners.ma_card
    detail = reverse("services:card-detail", kwargs={"pk": card.pk})
    response = login(world.pingjiang_staff).get(verify_url(card))
    assert response.context["detail_url"] == detail
    assert f'href="{detail}"' in response.content.decode()


@pytest.mark.parametrize("who", ["canglang_staff", "pingjianglu_liaison", "no_post"])
def test_others_signed_in_see_only_the_public_check(world, partners, login, who):
    response = login(getattr(world, who)).get(verify_url(partners.ma_card))
    assert response.status_code == 200
    assert response.context["detail_url"] is None and response.context["till_url"] is None
