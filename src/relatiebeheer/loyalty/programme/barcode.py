"""Barcodes for customer cards as inline SVG, drawn on the server (no JavaScript).

* EAN-13 (card numbers with an EAN-13 check digit): 95 modules — start guard ``101``,
  six digits in the L/G code set chosen by the first digit, the centre guard ``01010``,
  six digits in the R code set, the end guard ``101`` — with a quiet zone of 11 modules
  left and 7 right.
* Interleaved 2 of 5 (ITF, for Luhn card numbers of any length): digit pairs, the first
  in the bars and the second in the spaces, narrow = 1 and wide = 3 modules, start
  ``nnnn`` and stop ``wnn``; an odd number of digits gets a leading zero.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from relatiebeheer.core.loyalty_rules import ean13_is_valid

L_CODES = (
    "0001101", "0011001", "0010011", "0111101", "0100011",
    "0110001", "0101111", "0111011", "0110111", "0001011",
)  # fmt: skip
G_CODES = tuple(code[::-1].translate(str.maketrans("01", "10")) for code in L_CODES)
R_CODES = tuple(code.translate(str.maketrans("01", "10")) for code in L_CODES)
PARITY = (
    "LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
    "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL",
)  # fmt: skip
ITF = ("nnwwn", "wnnnw", "nwnnw", "wwnnn", "nnwnw", "wnwnn", "nwwnn", "nnnww", "wnnwn", "nwnwn")


def ean13_modules(number: str) -> str:
    """The 95 modules (``1`` bar, ``0`` space) of a valid EAN-13 number."""
    if not ean13_is_valid(number):
        raise ValueError(f"not a valid EAN-13 number: {number!r}")
    digits = [int(c) for c in number]
    parity = PARITY[digits[0]]
    left = "".join(
        (L_CODES if p == "L" else G_CODES)[d] for p, d in zip(parity, digits[1:7], strict=True)
    )
    right = "".join(R_CODES[d] for d in digits[7:13])
    return "101" + left + "01010" + right + "101"


def ean13_decode(modules: str) -> str:
    """The number back from the modules (used by the tests to read the bars)."""
    if len(modules) != 95 or modules[:3] != "101" or modules[45:50] != "01010":
        raise ValueError("not EAN-13 modules")
    left = [modules[3 + 7 * i : 10 + 7 * i] for i in range(6)]
    right = [modules[50 + 7 * i : 57 + 7 * i] for i in range(6)]
    digits, parity = [], ""
    for code in left:
        if code in L_CODES:
            digits.append(L_CODES.index(code))
            parity += "L"
        else:
            digits.append(G_CODES.index(code))
            parity += "G"
    first = PARITY.index(parity)
    return str(first) + "".join(map(str, digits)) + "".join(str(R_CODES.index(c)) for c in right)


def itf_modules(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    if len(digits) % 2:
        digits = "0" + digits
    out = "1010"  # start: narrow bar, narrow space, narrow bar, narrow space
    for i in range(0, len(digits), 2):
        bars, spaces = ITF[int(digits[i])], ITF[int(digits[i + 1])]
        for bar, space in zip(bars, spaces, strict=True):
            out += "1" * (3 if bar == "w" else 1) + "0" * (3 if space == "w" else 1)
    return out + "111" + "0" + "1"  # stop: wide bar, narrow space, narrow bar


def _rects(modules: str, *, x0: int, height, long_at=frozenset(), long_height=None) -> list[str]:
    rects, i = [], 0
    while i < len(modules):
        if modules[i] != "1":
            i += 1
            continue
        j = i
        while j < len(modules) and modules[j] == "1":
            j += 1
        h = long_height if i in long_at and long_height else height
        rects.append(f'<rect x="{x0 + i}" y="0" width="{j - i}" height="{h}"/>')
        i = j
    return rects


def barcode_svg(number: str, *, scheme: str = "ean13", label: str = "") -> SafeString:
    """An accessible inline SVG of the card number's barcode."""
    title = escape(label or number)
    if scheme == "ean13" and ean13_is_valid(number):
        modules = ean13_modules(number)
        guards = {0, 2, 46, 48, 92, 94}
        quiet_left, quiet_right, height = 11, 7, 60
        width = quiet_left + 95 + quiet_right
        rects = _rects(modules, x0=quiet_left, height=height, long_at=guards, long_height=66)
        text = (
            f'<text x="4" y="74">{number[0]}</text>'
            f'<text x="{quiet_left + 24}" y="74" text-anchor="middle">{number[1:7]}</text>'
            f'<text x="{quiet_left + 70}" y="74" text-anchor="middle">{number[7:]}</text>'
        )
    else:
        modules = itf_modules(number)
        quiet_left = quiet_right = 10
        height = 60
        width = quiet_left + len(modules) + quiet_right
        rects = _rects(modules, x0=quiet_left, height=height)
        text = f'<text x="{width / 2}" y="74" text-anchor="middle">{escape(number)}</text>'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 78" width="{width * 3}" class="barcode mw-100 h-auto" '
        f'role="img" aria-label="{title}" data-modules="{modules}">'
        f"<title>{title}</title>"
        f'<rect width="{width}" height="78" fill="#fff"/>'
        f'<g fill="#000">{"".join(rects)}</g>'
        f'<g font-family="monospace" font-size="9" fill="#000">{text}</g>'
        "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - built from digits and escaped text only
