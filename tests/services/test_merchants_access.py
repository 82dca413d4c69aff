"""Who may reach the merchant and agreement pages: scoping (404 outside the user's areas,
never a hint), role permissions (403 inside scope without the capability), and the till
login of a merchant, which is refused on every one of these pages."""

import pytest
from django.urls import URLPattern, reverse

from services import urls_merchants
from services.models import Agreement, AgreementStatus, Merchant, ServiceCategory


@pytest.fixture
def community_merchant(world, partners):
    """A merchant managed by 平江路社区 itself, with an agreement the community signed."""
    merchant = Merchant.objects.create(
        area=world.pingjianglu,
        name="平江路裁缝铺",
        category=ServiceCategory.TAILORING,
        address="平江路120号",
    )
    agreement = Agreement.objects.create(
        merchant=merchant,
        area=world.pingjianglu,
        number="PJL-2026-05",
        valid_from=partners.lamian_agreement.valid_from,
        valid_to=partners.lamian_agreement.valid_to,
    )
    return merchant, agreement


def detail(merchant):
    return reverse("services:merchant-detail", args=[merchant.pk])


def test_other_sub_district_staff_get_404_for_pingjiang_merchant(world, partners, login):
    client = login(world.canglang_staff)
    lamian, agreement = partners.lamian, partners.lamian_agreement
    assert client.get(detail(lamian)).status_code == 404
    assert client.get(reverse("services:merchant-edit", args=[lamian.pk])).status_code == 404
    assert client.post(reverse("services:merchant-archive", args=[lamian.pk])).status_code == 404
    for name in ("agreement-detail", "agreement-edit", "agreement-renew", "agreement-document"):
        assert client.get(reverse(f"services:{name}", args=[agreement.pk])).status_code == 404
    assert (
        client.post(reverse("services:agreement-archive", args=[agreement.pk])).status_code == 404
    )
    lamian.refresh_from_db()
    assert not lamian.is_archived


def test_lists_show_only_the_users_sub_district(world, partners, login):
    client = login(world.canglang_staff)
    merchants = client.get(reverse("services:merchant-list")).context["page"]
    assert [m.name for m in merchants] == ["苏城家电维修部"]
    agreements = client.get(reverse("services:agreement-list")).context["page"]
    assert [a.number for a in agreements] == ["CL-2026-02"]
    page = login(world.pingjiang_staff).get(reverse("services:merchant-list")).content.decode()
    assert "马记清真拉面馆" in page and "苏城家电维修部" not in page


def test_bureau_sees_every_sub_district_but_adds_nothing(world, partners, login):
    client = login(world.bureau)
    names = {m.name for m in client.get(reverse("services:merchant-list")).context["page"]}
    assert names == {"马记清真拉面馆", "苏城家电维修部"}
    assert client.get(detail(partners.repair)).status_code == 200
    assert client.get(reverse("services:merchant-create")).status_code == 403
    assert client.get(reverse("services:agreement-create")).status_code == 403
    assert client.get(reverse("services:merchant-import")).status_code == 403


def test_community_staff_view_but_may_not_create_or_change(
    world, partners, community_merchant, login
):
    merchant, agreement = community_merchant
    client = login(world.pingjianglu_staff)
    assert client.get(reverse("services:merchant-list")).status_code == 200
    assert client.get(detail(merchant)).status_code == 200
    assert client.get(reverse("services:agreement-detail", args=[agreement.pk])).status_code == 200
    assert client.get(reverse("services:merchant-create")).status_code == 403
    response = client.post(
        reverse("services:merchant-create"),
        {"name": "新商户", "category": "moving", "area": world.pingjianglu.pk, "address": "x"},
    )
    assert response.status_code == 403
    assert not Merchant.objects.filter(name="新商户").exists()
    assert client.get(reverse("services:merchant-edit", args=[merchant.pk])).status_code == 403
    assert client.get(reverse("services:agreement-create")).status_code == 403
    assert client.get(reverse("services:agreement-edit", args=[agreement.pk])).status_code == 403
    assert client.get(reverse("services:agreement-import")).status_code == 403
    # the street office's merchants serve its communities: seen, never changed
    assert client.get(detail(partners.lamian)).status_code == 200
    assert (
        client.get(reverse("services:merchant-edit", args=[partners.lamian.pk])).status_code == 403
    )
    # the other street office's merchant is not seen at all
    assert client.get(detail(partners.repair)).status_code == 404


def test_liaison_views_the_community_merchant_and_nothing_more(
    world, partners, community_merchant, login
):
    merchant, agreement = community_merchant
    client = login(world.pingjianglu_liaison)
    page = client.get(reverse("services:merchant-list"))
    # its own community's merchant and the street office's; not the other sub-district's
    assert sorted(m.name for m in page.context["page"]) == ["平江路裁缝铺", "马记清真拉面馆"]
    assert client.get(detail(merchant)).status_code == 200
    assert client.get(reverse("services:agreement-detail", args=[agreement.pk])).status_code == 200
    assert client.get(reverse("services:agreement-renewals")).status_code == 200
    assert client.get(reverse("services:merchant-export")).status_code == 403  # no export
    assert client.get(reverse("services:merchant-create")).status_code == 403
    assert client.get(detail(partners.lamian)).status_code == 200
    assert client.get(detail(partners.repair)).status_code == 404
    assert login(world.daoqian_liaison).get(detail(merchant)).status_code == 404


@pytest.mark.parametrize("who", ["pingjianglu_staff", "pingjianglu_liaison"])
def test_the_street_offices_merchant_shows_communities_no_change_buttons(
    world, partners, login, who
):
    client = login(getattr(world, who))
    lamian, agreement = partners.lamian, partners.lamian_agreement
    page = client.get(detail(lamian))
    assert page.status_code == 200
    assert not page.context["can_change"] and not page.context["can_add_agreement"]
    html = page.content.decode()
    for name in ("merchant-edit", "merchant-archive", "merchant-accounts"):
        assert reverse(f"services:{name}", args=[lamian.pk]) not in html
    assert reverse("services:agreement-create") not in html
    page = client.get(reverse("services:agreement-detail", args=[agreement.pk]))
    assert not page.context["can_change"] and not page.context["can_renew"]
    html = page.content.decode()
    for name in ("agreement-edit", "agreement-archive", "agreement-renew"):
        assert reverse(f"services:{name}", args=[agreement.pk]) not in html
    renewals = client.get(reverse("services:agreement-renewals"))
    assert "/renew/" not in renewals.content.decode()
    # the street office's own staff do get them (the check above can fail)
    staff_page = login(world.pingjiang_staff).get(detail(lamian)).content.decode()
    assert reverse("services:merchant-edit", args=[lamian.pk]) in staff_page


def test_community_staff_see_no_till_logins(world, partners, community_merchant, login):
    merchant, _agreement = community_merchant
    page = login(world.pingjianglu_staff).get(detail(merchant))
    assert page.context["accounts"] is None
    staff_page = login(world.pingjiang_staff).get(detail(partners.lamian))
    assert [a.user for a in staff_page.context["accounts"]] == [partners.lamian_till]
    assert "majilamian" in staff_page.content.decode()


def my_urls(pk):
    for pattern in urls_merchants.urlpatterns:
        assert isinstance(pattern, URLPattern)
        kwargs = {"pk": pk} if "pk" in pattern.pattern.converters else {}
        yield reverse(f"services:{pattern.name}", kwargs=kwargs)


@pytest.mark.parametrize("who", ["till", "no_post", "ended_post"])
def test_logins_without_a_post_are_refused_on_every_page(world, partners, login, who):
    user = partners.lamian_till if who == "till" else getattr(world, who)
    client = login(user)
    for url in my_urls(partners.lamian_agreement.pk):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"token": "x"}).status_code == 403, url
    # the till's own merchant too
    assert client.get(detail(partners.lamian)).status_code == 403


def test_foreign_and_huge_ids_are_404_or_ignored(world, partners, login):
    client = login(world.pingjiang_staff)
    assert client.get("/services/merchants/99999999999999999999/").status_code == 404
    assert client.get("/services/merchants/agreements/9223372036854775807/").status_code == 404
    for raw in ("99999999999999999999", "x", "１２", "\x00", str(partners.repair.pk)):
        response = client.get(reverse("services:agreement-create"), {"merchant": raw})
        assert response.status_code == 200
        assert response.context["form"].initial.get("merchant") is None


def test_draft_agreement_of_a_community_merchant_is_hidden_from_other_communities(
    world, community_merchant, login
):
    _merchant, agreement = community_merchant
    assert agreement.status == AgreementStatus.DRAFT
    client = login(world.daoqian_liaison)
    assert client.get(reverse("services:agreement-detail", args=[agreement.pk])).status_code == 404
    listed = client.get(reverse("services:agreement-list")).context["page"]
    # only the agreements of 道前社区's own street office (沧浪街道)
    assert agreement not in list(listed)
    assert {a.area for a in listed} <= {world.canglang}
