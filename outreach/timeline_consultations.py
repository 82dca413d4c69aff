"""Timeline entries of consultations for the household page (see residents.timeline)."""


def entries(household, user, *, before=None, limit=21) -> list:
    return []


def actions(household, user) -> list:
    return []
