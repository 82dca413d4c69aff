"""The service lists' quick paths (docs/performance.md, "Service pages"): the residents'
records scoped by community ids (and by nothing when the user sees every area) are exactly
``visible_to``'s; rows built in Python and quick filter selects show what the templates
showed; the count of a page is that of its rows."""

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from network.models import Area, AreaLevel
from services.cards import issue_card, record_consent
from services.forms_merchants import QuickSelect
from services.models import CardUse, Consent, ServiceCard
from services.selectors_cards import resident_area_q
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _other_district_resident(world):
    """A consenting card holder in a second district, which the bureau of the first does
    not serve: (person, consent, card)."""
    other = Area.objects.create(code="320506000000", name="吴中区", level=AreaLevel.DISTRICT)
    street = Area.objects.create(
        code="320506001000", name="长桥街道", level=AreaLevel.SUBDISTRICT, parent=other
    )
    community = Area.objects.create(
        code="320506001001", name="长桥社区", level=AreaLevel.COMMUNITY, parent=street
    )
    person = PersonFactory(household__community=community, community=community, name="马外区")
    consent = record_consent(
        person, given_on=timezone.localdate(), form_reference="WZ-1", user=world.superuser
    )
    card = issue_card(person, user=world.superuser)
    return person, consent, card


@pytest.mark.parametrize(
    "model, area_field",
    [
        (Consent, "person__community"),
        (ServiceCard, "holder__community"),
        (CardUse, "card__holder__community"),
    ],
)
def test_by_community_ids_is_exactly_visible_to(world, partners, model, area_field):
    _other_district_resident(world)
    for user in [*world.all_role_users(), world.no_post, world.ended_post, world.superuser]:
        quick = set(model.objects.filter(resident_area_q(user, area_field)).values_list("pk"))
        assert quick == set(model.objects.visible_to(user).values_list("pk")), user.username


def test_no_filter_only_when_every_area_is_seen(world):
    assert resident_area_q(world.bureau, "person__community") == Q()  # one district
    _other_district_resident(world)
    narrowed = resident_area_q(world.bureau, "person__community")
    assert narrowed != Q()
    assert resident_area_q(world.no_post, "person__community") == Q(pk__in=[])


def test_the_bureau_does_not_see_another_districts_cards(world, partners, login):
    _person, consent, card = _other_district_resident(world)
    client = login(world.bureau)
    consents = client.get(reverse("services:consent-list"))
    assert consent.pk not in {c.pk for c in consents.context["page"]}
    assert "马外区" not in consents.content.decode()
    visible = Consent.objects.visible_to(world.bureau).count()
    assert consents.context["page"].paginator.count == visible
    cards = client.get(reverse("services:card-list"))
    assert card.pk not in {c.pk for c in cards.context["page"]}
    visible = ServiceCard.objects.visible_to(world.bureau).count()
    assert cards.context["page"].paginator.count == visible
    # the other district's own view of it
    assert card.pk in set(
        ServiceCard.objects.filter(
            resident_area_q(world.superuser, "holder__community")
        ).values_list("pk", flat=True)
    )


def test_quick_select_marks_the_choice_and_escapes():
    widget = QuickSelect(choices=[("", "All"), (1, "<b>A&B</b>"), (2, "二")])
    html = widget.render("area", 2, attrs={"id": "id_area", "class": "form-select"})
    assert html.startswith('<select name="area" id="id_area" class="form-select">')
    assert '<option value="2" selected>二</option>' in html
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in html
    assert html.count("selected") == 1
    assert '<option value="" selected>All</option>' in widget.render("area", None)


def test_rows_show_what_the_list_shows(world, partners, login):
    client = login(world.pingjiang_staff)
    page = client.get(reverse("services:merchant-list")).content.decode()
    assert f'href="{reverse("services:merchant-detail", args=[partners.lamian.pk])}"' in page
    assert "马记清真拉面馆" in page
    page = client.get(reverse("services:card-list")).content.decode()
    assert f'href="{reverse("services:card-detail", args=[partners.ma_card.pk])}"' in page
    assert partners.ma_card.display_number in page
