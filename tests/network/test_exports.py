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


def test_an_id_number_typed_into_a_filter_is_masked_in_both_logs(world, rf):
    """A search for a full ID number, exported: the export log and the audit log keep the
    region and the last four only."""
    import pytest  # noqa: F401  (the world fixture needs the database)

    from network.exports import log_export
    from network.models import AuditEvent, AuditKind

    request = rf.get("/register/export/")
    request.user = world.pingjianglu_staff
    entry = log_export(
        request=request,
        exporter="residents.register.csv",
        label="居民名册 · 平江路社区",
        file_format="csv",
        row_count=1,
        filters={"q": "32050819840714135x", "status": "active"},
    )
    assert entry.filters == {"q": "320508********135x", "status": "active"}
    event = AuditEvent.objects.get(kind=AuditKind.EXPORT)
    assert "19840714" not in str(event.changes)
    assert event.changes["filters"]["q"] == "320508********135x"
