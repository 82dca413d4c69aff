"""``manage.py anonymise_departed --user quminzongju [--dry-run]``: anonymise the persons and
households that left the register more than ``ANONYMISE_AFTER_YEARS`` years ago, as the
page /register/anonymise/ does (residents/anonymise.py)."""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from network.models import User
from residents import anonymise


class Command(BaseCommand):
    help = (
        "Anonymise persons who moved away or died, and households that moved away or closed, "
        "more than ANONYMISE_AFTER_YEARS years ago (default 3): names, ID numbers, phones, "
        "addresses and notes are overwritten on the records, in their history and in the "
        "audit log. --user is a district bureau staff member or a superuser; --dry-run counts "
        "and writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Who anonymises (recorded).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count who qualifies; write nothing."
        )

    def handle(self, *args, user: str, dry_run: bool, **options):
        try:
            by = User.objects.get(username=user)
        except User.DoesNotExist as exc:
            raise CommandError(_("No user %(name)s.") % {"name": user}) from exc
        if not anonymise.may_anonymise(by):
            raise CommandError(_("Only district bureau staff may anonymise personal data."))
        cutoff = anonymise.default_cutoff()
        found = anonymise.preview(by, cutoff)
        self.stdout.write(
            _("Cut-off date: %(date)s (%(years)s years).")
            % {"date": cutoff.isoformat(), "years": anonymise.years_after()}
        )
        for row in found.by_community:
            self.stdout.write(f"  {row.community.name}\t{row.persons}\t{row.households}")
        if found.undated:
            self.stdout.write(
                _(
                    "Persons moved away or deceased without a date (never anonymised until "
                    "the date is entered): %(n)s."
                )
                % {"n": found.undated}
            )
        if dry_run:
            self.stdout.write(
                _(
                    "Dry run: %(persons)s persons and %(households)s households qualify; "
                    "nothing was written."
                )
                % {"persons": found.persons, "households": found.households}
            )
            return
        try:
            done = anonymise.persons_anonymise(user=by, cutoff=cutoff)
        except (PermissionDenied, anonymise.AnonymiseError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Anonymised %(persons)s persons and %(households)s households.")
                % {"persons": done.persons, "households": done.households}
            )
        )
