"""Panels on each user's home page, contributed by the apps built on the network.

``network`` cannot import them (dependencies point one way), so an app registers a panel
from its ``AppConfig.ready``: ``register_panel(panel)``, where ``panel(request)`` returns
``(template_name, context)`` for the user's own work, or ``None`` when it has nothing to
show. Panels are drawn in the order they were registered, for every signed-in user (a
merchant's till login holds no post, and its panel is the way to its pages), so a panel
checks the permissions it needs.
"""

_PANELS: list = []


def register_panel(panel) -> None:
    if panel not in _PANELS:
        _PANELS.append(panel)


def panels_for(request) -> list[tuple[str, dict]]:
    drawn = []
    for panel in _PANELS:
        result = panel(request)
        if result is not None:
            drawn.append(result)
    return drawn
