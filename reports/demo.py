"""The demo district's report: the bureau's definition "2025年度民族工作总结" for 姑苏区 (seed
003's annual summary: every figure of the default narrative, in its order) and, when the demo
has outreach logs, 平江路社区's first version submitted by its community login, waiting for
平江街道's approval — so each demo login finds something to do on the report pages.

Idempotent like the other demo modules: a definition with this title for the district is
kept, and nothing is added.
"""

from django.db import transaction

from network.models import Area, User
from reports import workflow
from reports.catalogue import catalogue
from reports.models import ReportDefinition
from reports.narrative import DEFAULT_TEMPLATE, figure_placeholders

DISTRICT_CODE = "320508000000"
TITLE = "2025年度民族工作总结"
PERIOD = "2025"
COMMUNITY = ("平江路社区", "pingjianglu")  # the community and its login


def demo_keys() -> list[str]:
    """The figures of the default narrative that the catalogue has, in the text's order."""
    known = catalogue()
    return [key for key in figure_placeholders(DEFAULT_TEMPLATE) if key in known]


def seed_reports(*, stdout=None, years: int = 3) -> ReportDefinition | None:
    """Add the demo definition (and, with ``years``, a submitted community report)."""
    district = Area.objects.filter(code=DISTRICT_CODE).first()
    if district is None:
        return None
    existing = ReportDefinition.objects.filter(area=district, title=TITLE).first()
    if existing is not None:
        if stdout:
            stdout.write("The demo report definition exists; keeping it.")
        return existing
    bureau = User.objects.filter(username="quminzongju").first()
    with transaction.atomic():
        definition = ReportDefinition.objects.create(
            title=TITLE,
            area=district,
            period=PERIOD,
            figure_keys="\n".join(demo_keys()),
            narrative_template=DEFAULT_TEMPLATE,
            created_by=bureau,
        )
        community = Area.objects.filter(name=COMMUNITY[0], path__startswith=district.path).first()
        author = User.objects.filter(username=COMMUNITY[1]).first()
        if years and community is not None and author is not None:
            report = workflow.generate(definition, community, author)
            workflow.submit(report, author, "2025年度总结，请街道审核。")
    if stdout:
        stdout.write(f"Report definition “{TITLE}” for {district.name}.")
    return definition


def build(*, seed: int, stdout, years: int = 3, **_options):
    """Called by ``seed_demo`` (after services, as reports comes later in INSTALLED_APPS)."""
    seed_reports(stdout=stdout, years=years)
    return []
