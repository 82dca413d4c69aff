"""The QR code printed on a service card, drawn on the server as SVG (segno: no script, no
outside service). It carries only the absolute signed verification link of the card
(``services.cards.verification_path``): the card number inside a signature, never a name or
an ID number, so a lost card that is scanned tells the finder nothing about its holder."""

import segno
from django.utils.safestring import mark_safe

from services.cards import verification_path
from services.models import ServiceCard

# Medium error correction survives a scuffed or creased card; a quiet zone of two modules
# is what the printed layout leaves free around the code.
ERROR_LEVEL = "m"
QUIET_ZONE = 2


def qr_svg(data: str) -> str:
    """An inline SVG of the QR code of ``data``, sized by CSS (no width or height of its
    own). segno writes only the code's geometry, so the markup is safe to embed."""
    code = segno.make(data, error=ERROR_LEVEL, micro=False)
    svg = code.svg_inline(
        scale=1, border=QUIET_ZONE, omitsize=True, svgclass="tx-card-qr", lineclass=None
    )
    return mark_safe(svg)  # noqa: S308 (segno's output, no user text in it)


def verification_url(request, card: ServiceCard) -> str:
    """The absolute signed link the card's QR code opens."""
    return request.build_absolute_uri(verification_path(card))
