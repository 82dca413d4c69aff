import re
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from network.access import can_see_area, has_current_post
from network.exports import log_export
from network.models import Area, User
from reports import exports
from reports.models import Report
from reports.periods import PeriodError, parse_period
from reports.summary import summary_table

VIEW_SUMMARY, VIEW_REPORT, EXPORT = (
    "reports.view_summary",
    "reports.view_report",
    "reports.export_reports",
)


class Command(BaseCommand):
    help = (
        "Write a period summary of an area, or a report, as docx, xlsx or csv: the same files "
        "as the download buttons. Exports are logged like every other, under --user, which is "
        "required: that user needs a current post, the permissions reports.view_summary and "
        "reports.export_reports, and must be able to see the area (or the report). With "
        "--report the report's own area and period are used (--area and --period, if given, "
        "must match it). Example: manage.py export_summary --user pingjiang --area "
        "320508001000 --period 2025 --format docx --output 平江街道_2025.docx"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user", required=True, help="Export as this user (scope, permissions, export log)."
        )
        parser.add_argument("--area", help="The area's 12-digit division code or its exact name.")
        parser.add_argument(
            "--period", help="2025, 2025-H1, 2025-Q3, 2025-07 or 2025-03-01..2025-06-30."
        )
        parser.add_argument("--format", required=True, choices=exports.FORMATS)
        parser.add_argument("--output", required=True, type=Path, help="The file to write.")
        parser.add_argument("--report", type=int, help="Export this report (its id) instead.")

    def handle(self, *args, **options):
        user, area, period = options["user"], options["area"], options["period"]
        fmt, output, report = options["format"], options["output"], options["report"]
        with translation.override(settings.LANGUAGE_CODE):
            by = self._user(user, report is not None)
            if report is not None:
                found = self._report(by, report)
                self._check_matches(found, area, period)
                content = exports.from_report(found)
                exporter = "report"
                filters = {"report": found.pk, "version": found.version, "period": found.period}
            else:
                if not area or not period:
                    raise CommandError("Give --area and --period (or --report).")
                place = self._area(by, area)
                span = self._period(period)
                content = exports.from_summary(summary_table(place, span))
                exporter = "summary"
                filters = {"area": place.pk, "period": span.key}
            data = exports.write(content, fmt)
            try:
                output.write_bytes(data)
            except OSError as exc:
                raise CommandError(f"{output}: {exc.strerror}") from exc
            log_export(
                request=SimpleNamespace(user=by, META={}),
                exporter=exporter,
                label=content.title,
                file_format=fmt,
                row_count=len(content.figures),
                filters={**filters, "format": fmt, "source": "manage.py export_summary"},
                area=content.area,
            )
        self.stdout.write(self.style.SUCCESS(f"{output}: {content.title} ({len(data)} bytes)."))

    def _user(self, username: str, for_report: bool) -> User:
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user {username}.") from exc
        if not user.is_active or not has_current_post(user):
            raise CommandError(f"{username} holds no current post.")
        needed = [VIEW_SUMMARY, EXPORT, *([VIEW_REPORT] if for_report else [])]
        if not user.has_perms(needed):
            raise CommandError(f"{username} may not export summaries ({', '.join(needed)}).")
        return user

    def _area(self, user: User, text: str) -> Area:
        text = text.strip()
        areas = Area.objects.filter(is_active=True)
        if re.fullmatch(r"\d{12}", text):
            found = list(areas.filter(code=text))
        else:
            found = list(areas.filter(name=text)[:2])
        if not found:
            raise CommandError(f"No area {text!r}: give a 12-digit division code or a name.")
        if len(found) > 1:
            raise CommandError(f"Several areas are called {text!r}: give the division code.")
        if not can_see_area(user, found[0]):
            raise CommandError(f"{found[0].name} is outside {user.username}'s areas.")
        return found[0]

    def _period(self, text: str):
        try:
            return parse_period(text)
        except PeriodError as exc:
            raise CommandError(str(exc)) from exc

    def _report(self, user: User, pk: int) -> Report:
        report = (
            Report.objects.visible_to(user)
            .select_related("definition", "area", "generated_by")
            .filter(pk=pk)
            .first()
        )
        if report is None:
            raise CommandError(f"No report {pk} that {user.username} may see.")
        return report

    def _check_matches(self, report: Report, area: str | None, period: str | None) -> None:
        if area and area.strip() not in (report.area.code, report.area.name):
            raise CommandError(f"Report {report.pk} is for {report.area.name}, not {area}.")
        if period and self._period(period).key != parse_period(report.period).key:
            raise CommandError(f"Report {report.pk} covers {report.period}, not {period}.")
