"""Review of the data-quality checks: a missing population figure links to where it can be
entered, for whoever may enter it."""

from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from network.models import AreaPopulation
from reports.periods import parse_period
from reports.quality import missing_population

Y2025 = parse_period("2025")


def test_the_bureau_is_sent_to_the_form_that_enters_the_missing_population(world, login):
    AreaPopulation.objects.create(area=world.pingjianglu, year=2025, registered=5200)
    check = missing_population(world.bureau, world.pingjiang, Y2025)
    assert check.examples == ["平江街道", "干将社区"]

    add = reverse("admin:network_areapopulation_add")
    assert check.url.startswith(add)
    for (_name, url), area in zip(check.links, [world.pingjiang, world.ganjiang], strict=True):
        assert urlsplit(url).path == add
        assert parse_qs(urlsplit(url).query) == {"area": [str(area.pk)], "year": ["2025"]}
    page = login(world.bureau).get(check.links[1][1])
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert (form.initial["area"], form.initial["year"]) == (str(world.ganjiang.pk), "2025")


def test_staff_without_the_admin_keep_the_areas_page(world):
    check = missing_population(world.pingjiang_staff, world.pingjiang, Y2025)
    assert check.links[0][1] == reverse("network:area-detail", args=[world.pingjiang.pk])
