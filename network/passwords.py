"""Tongxin's own password rule, beside Django's validators (settings.AUTH_PASSWORD_VALIDATORS):
at least eight characters of at least three of the four kinds — capital letters, small
letters, digits, symbols — and never the user name inside it, whatever the case."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> set[str]:
    """Which of the four kinds of character ``password`` holds. Letters without case (汉字)
    and spaces count as symbols: they are as hard to guess as punctuation."""
    kinds = set()
    for char in password:
        if char.isdigit():
            kinds.add("digit")
        elif char.isupper():
            kinds.add("upper")
        elif char.islower():
            kinds.add("lower")
        else:
            kinds.add("symbol")
    return kinds


class StrongPasswordValidator:
    def __init__(self, min_length: int = 8, min_classes: int = 3):
        self.min_length = min_length
        self.min_classes = min_classes

    def validate(self, password, user=None):
        problems = []
        if len(password) < self.min_length:
            problems.append(
                ValidationError(
                    _("The password must be at least %(n)d characters long.")
                    % {"n": self.min_length},
                    code="password_too_short_for_tongxin",
                )
            )
        if len(character_classes(password)) < self.min_classes:
            problems.append(
                ValidationError(
                    _(
                        "The password must mix at least %(n)d of these: capital letters, "
                        "small letters, digits and symbols."
                    )
                    % {"n": self.min_classes},
                    code="password_too_few_kinds",
                )
            )
        username = (user.get_username() if user is not None else "") or ""
        if username and username.casefold() in password.casefold():
            problems.append(
                ValidationError(
                    _("The password must not contain the user name."),
                    code="password_contains_username",
                )
            )
        if problems:
            raise ValidationError(problems)

    def get_help_text(self):
        return _(
            "At least %(length)d characters, mixing at least %(n)d of capital letters, small "
            "letters, digits and symbols, and not containing the user name."
        ) % {"length": self.min_length, "n": self.min_classes}
