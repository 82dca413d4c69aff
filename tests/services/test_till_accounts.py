"""A merchant's till logins, managed by the street office that manages the merchant: create
one (an account with no post, a password that passes the validators), switch it off and on;
an account that holds a post never becomes a till login."""

import pytest
from django.urls import reverse

from network.models import Post, Role, User
from services.models import MerchantAccount
from services.uses import merchant_of
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Lamian-Till-2026!"


def accounts_url(merchant):
    return reverse("services:merchant-accounts", args=[merchant.pk])


def switch_url(account):
    return reverse("services:merchant-account-switch", args=[account.merchant_id, account.pk])


def new_login(**changes):
    data = {
        "username": "lamian_cashier",
        "real_name": "马小梅",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    data.update(changes)
    return data


def test_the_page_lists_the_merchants_till_logins(world, partners, login):
    response = login(world.pingjiang_staff).get(accounts_url(partners.lamian))
    assert response.status_code == 200
    assert [a.user for a in response.context["accounts"]] == [partners.lamian_till]
    assert response.context["may_add"]


def test_staff_create_a_till_login_with_no_post(world, partners, login, client):
    response = login(world.pingjiang_staff).post(accounts_url(partners.lamian), new_login())
    assert response.status_code == 302
    user = User.objects.get(username="lamian_cashier")
    assert user.real_name == "马小梅"
    assert not Post.objects.filter(user=user).exists()
    assert not user.is_staff and not user.is_superuser
    account = MerchantAccount.objects.get(user=user)
    assert account.merchant == partners.lamian and account.is_active
    assert merchant_of(user) == partners.lamian
    # the new login signs in with its password and reaches the till
    client.logout()
    signed_in = client.post(
        reverse("login"), {"username": "lamian_cashier", "password": GOOD_PASSWORD}
    )
    assert signed_in.status_code == 302  # through the sign-in page (django-axes needs a request)
    # the password was chosen by staff: the cashier sets their own before the till opens
    assert client.get(reverse("services:till"))["Location"] == reverse("password_change")
    assert user.must_change_password
    changed = client.post(
        reverse("password_change"),
        {
            "old_password": GOOD_PASSWORD,
            "new_password1": "Lamian-Till-8831",
            "new_password2": "Lamian-Till-8831",
        },
    )
    assert changed.status_code == 302
    assert client.get(reverse("services:till")).status_code == 200
    assert client.get(reverse("services:use-list")).status_code == 403


@pytest.mark.parametrize(
    "changes",
    [
        {"password1": "123", "password2": "123"},  # too short, numeric
        {"password1": "password123", "password2": "password123"},  # common
        {"password1": "lamian_cashier1", "password2": "lamian_cashier1"},  # like the username
        {"password2": "Something-else-2026"},
        {"username": "pingjiang"},  # a staff account: holds a post
        {"username": "PingJiang"},
        {"username": "majilamian"},  # taken by the till already
        {"username": "bad name!"},
        {"username": "\x00"},
        {"real_name": "   "},
    ],
    ids=lambda c: ",".join(f"{k}={v!r}" for k, v in c.items()),
)
def test_a_bad_till_login_is_refused(world, partners, login, changes):
    before = User.objects.count()
    response = login(world.pingjiang_staff).post(
        accounts_url(partners.lamian), new_login(**changes)
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert User.objects.count() == before
    assert MerchantAccount.objects.count() == 1


def test_a_staff_account_is_refused_by_name(world, partners, login):
    response = login(world.pingjiang_staff).post(
        accounts_url(partners.lamian), new_login(username="pingjiang")
    )
    assert "username" in response.context["form"].errors
    assert not MerchantAccount.objects.filter(user=world.pingjiang_staff).exists()
    assert merchant_of(world.pingjiang_staff) is None


def test_switch_off_and_on(world, partners, login):
    client = login(world.pingjiang_staff)
    account = partners.lamian_till.merchant_account
    assert client.post(switch_url(account)).status_code == 302
    account.refresh_from_db()
    account.user.refresh_from_db()
    assert not account.is_active and not account.user.is_active
    assert merchant_of(account.user) is None
    client.post(switch_url(account))
    account.refresh_from_db()
    account.user.refresh_from_db()
    assert account.is_active and account.user.is_active
    assert merchant_of(account.user) == partners.lamian
    assert client.get(switch_url(account)).status_code == 405


def test_a_till_login_given_a_post_is_not_switched_back_on(world, partners, login):
    client = login(world.pingjiang_staff)
    account = partners.lamian_till.merchant_account
    client.post(switch_url(account))  # off
    PostFactory(user=account.user, role=Role.COMMUNITY, area=world.pingjianglu)
    client.post(switch_url(account))  # on: refused
    account.refresh_from_db()
    assert not account.is_active
    assert merchant_of(account.user) is None


def test_another_subdistrict_gets_404(world, partners, login):
    client = login(world.canglang_staff)
    assert client.get(accounts_url(partners.lamian)).status_code == 404
    assert client.post(accounts_url(partners.lamian), new_login()).status_code == 404
    account = partners.lamian_till.merchant_account
    assert client.post(switch_url(account)).status_code == 404
    account.refresh_from_db()
    assert account.is_active
    assert not User.objects.filter(username="lamian_cashier").exists()


def test_an_account_under_another_merchants_url_is_404(world, partners, login):
    account = partners.lamian_till.merchant_account
    client = login(world.superuser)
    url = reverse("services:merchant-account-switch", args=[partners.repair.pk, account.pk])
    assert client.post(url).status_code == 404
    account.refresh_from_db()
    assert account.is_active


@pytest.mark.parametrize("who", ["bureau", "pingjianglu_staff", "pingjianglu_liaison", "no_post"])
def test_who_may_not_manage_till_logins_is_refused(world, partners, login, who):
    client = login(getattr(world, who))
    assert client.get(accounts_url(partners.lamian)).status_code == 403
    assert client.post(accounts_url(partners.lamian), new_login()).status_code == 403
    assert not User.objects.filter(username="lamian_cashier").exists()


def test_a_till_login_cannot_manage_till_logins(partners, login):
    client = login(partners.lamian_till)
    assert client.get(accounts_url(partners.lamian)).status_code == 403
    assert client.post(switch_url(partners.lamian_till.merchant_account)).status_code == 403


def test_no_new_till_login_for_an_archived_merchant(world, partners, login):
    from django.utils import timezone

    partners.lamian.archived_at = timezone.now()
    partners.lamian.save()
    client = login(world.pingjiang_staff)
    page = client.get(accounts_url(partners.lamian))
    assert not page.context["may_add"]
    response = client.post(accounts_url(partners.lamian), new_login())
    assert response.status_code == 200
    assert not User.objects.filter(username="lamian_cashier").exists()
