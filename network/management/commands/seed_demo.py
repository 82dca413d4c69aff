import importlib

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from network.models import User


class Command(BaseCommand):
    help = (
        "Build the demo district (deterministic for --seed). Each app with a demo module adds "
        "its part, in INSTALLED_APPS order; existing data is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--households",
            type=int,
            default=None,
            help="How many households to register in the demo district (benchmarks use many).",
        )
        parser.add_argument(
            "--years",
            type=int,
            default=3,
            help="Years of outreach logs ending today (visits, meetings, consultations); 0: none.",
        )

    def handle(self, *args, seed: int, households: int | None, years: int, **options):
        if years < 0:
            raise CommandError(_("--years cannot be negative."))
        logins = []
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            built = module.build(seed=seed, stdout=self.stdout, households=households, years=years)
            logins.extend(built or [])
        self.stdout.write(self.style.SUCCESS(_("Demo logins (password unless changed since):")))
        for username, password, role, where in logins:
            self.stdout.write(f"  {username:<18} {password:<14} {role} · {where}")
        if settings.TONGXIN_DEMO_FORCE_PASSWORD_CHANGE:
            # Everyone knows the demo password: each account chooses its own at first
            # sign-in (`make run` switches this off to keep the demo logins working).
            marked = User.objects.filter(
                username__in=[row[0] for row in logins], password_changed_at__isnull=True
            ).update(must_change_password=True)
            if marked:
                self.stdout.write(
                    _("Each demo account is asked to choose a new password at its first sign-in.")
                )
