"""HTML to PDF with WeasyPrint (charts are inline SVG, so no browser is involved)."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from relatiebeheer.common.errors import DomainError


class PdfUnavailable(DomainError):
    status = 503
    code = "pdf_unavailable"


def render_pdf(template: str, context: dict) -> bytes:
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError) as exc:  # Pango missing on the system
        raise PdfUnavailable(
            _("PDF output needs the Pango library on this server (Debian: libpango-1.0-0).")
        ) from exc
    html = render_to_string(template, context)
    stylesheet = finders.find("reports/print.css")
    return HTML(string=html, base_url=".").write_pdf(stylesheets=[CSS(filename=stylesheet)])
