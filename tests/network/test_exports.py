from django.test import RequestFactory, override_settings

from network.exports import client_ip


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_client_ip_takes_the_forwarded_address_when_it_is_one():
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.1")
    assert client_ip(request) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_client_ip_drops_a_forged_header_instead_of_failing():
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="<script>, 10.0.0.1")
    assert client_ip(request) is None
    assert client_ip(RequestFactory().get("/")) == "127.0.0.1"
