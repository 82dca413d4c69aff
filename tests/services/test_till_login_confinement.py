"""A merchant's till login sees its own merchant and nothing else: every page of the register,
outreach and services staff is refused to it, with or without the id of a real record."""

import pytest
from django.urls import reverse

from network.scoped import ACCOUNT, SCOPED
from tests.network.test_url_walk import scoped, url_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("namespace", "pattern"), scoped((SCOPED,)))
def test_till_login_is_refused_every_staff_page(partners, login, namespace, pattern):
    client = login(partners.lamian_till)
    url = url_for(namespace, pattern)
    assert client.get(url).status_code in {403, 404}, url
    assert client.post(url, {}).status_code in {403, 404, 405}, url


def test_till_login_is_refused_real_records_of_its_own_customers(partners, register, login):
    client = login(partners.lamian_till)
    for url in [
        reverse("residents:person-list"),
        reverse("residents:household-detail", kwargs={"pk": register.ma_household.pk}),
        reverse("outreach:visit-list"),
    ]:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize(("namespace", "pattern"), scoped((ACCOUNT,)))
def test_staff_are_refused_the_till_pages(world, login, namespace, pattern):
    client = login(world.pingjiang_staff)
    url = url_for(namespace, pattern)
    assert client.get(url).status_code == 403, url


def test_there_are_till_pages_to_walk():
    assert len(scoped((ACCOUNT,))) >= 2
