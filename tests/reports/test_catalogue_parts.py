"""Parts of a figure (visits of one kind, consultations on one topic) are counted together with
their whole in one query grouped by area and kind, and each part's list is its whole's list
filtered: the per-kind rows of a summary cost no more queries than the whole alone."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from outreach.models import Topic, VisitKind
from reports import catalogue
from reports.periods import parse_period
from tests.reports import outreach_fixtures

outreach_books = outreach_fixtures.outreach_books
register = outreach_fixtures.register
liaisons = outreach_fixtures.liaisons

YEAR = parse_period("2025")


def _queries(keys, areas) -> int:
    with CaptureQueriesContext(connection) as captured:
        catalogue.compute(keys, areas, YEAR)
    return len(captured.captured_queries)


def test_every_kind_of_visit_costs_one_query_with_the_whole(world, outreach_books):
    areas = [world.pingjianglu, world.ganjiang, world.pingjiang]
    kinds = [f"visits_{kind.value}" for kind in VisitKind]
    topics = [f"consultations_{topic.value}" for topic in Topic]
    whole_only = _queries(["visits", "consultations"], areas)
    # the whole is read from its parts' grouped query: no query more at all
    assert _queries(["visits", "consultations", *kinds, *topics], areas) == whole_only


def test_the_parts_add_up_to_the_whole_and_match_their_lists(world, outreach_books):
    areas = [world.pingjianglu, world.ganjiang, world.pingjiang]
    kinds = [f"visits_{kind.value}" for kind in VisitKind]
    found = catalogue.compute(["visits", *kinds], areas, YEAR)
    for area in areas:
        assert sum(found.value(key, area) for key in kinds) == found.value("visits", area)
        for key in kinds:
            assert catalogue.records(key, area, YEAR).count() == found.value(key, area)
    # 平江路社区 had three festival visits in 2025 (元宵, 开斋, 国庆 to 马)
    assert found.value("visits_festival", world.pingjianglu) == 3
    # and three hardship visits to 周 (the one in May is archived)
    assert found.value("visits_hardship", world.pingjianglu) == 3
