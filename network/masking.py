"""Masking of personal numbers, for everything that shows or keeps them: the register's
pages (residents), the audit log and the export log (network). Kept here, at the bottom of
the layers, so that both use the one rule."""


def mask_id_number(number: str) -> str:
    """320508********123X: region and the last four kept, birth date hidden."""
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
