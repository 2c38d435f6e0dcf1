"""Translated names of the RFM segments and pyramid levels (the core names them in code)."""

from django.utils.translation import gettext_lazy as _

SEGMENT_CHOICES = [
    ("champions", _("Champions")),
    ("loyal", _("Loyal")),
    ("potential_loyalist", _("Potential loyalist")),
    ("new", _("New")),
    ("promising", _("Promising")),
    ("need_attention", _("Needs attention")),
    ("about_to_sleep", _("About to sleep")),
    ("at_risk", _("At risk")),
    ("cannot_lose", _("Cannot lose them")),
    ("hibernating", _("Hibernating")),
    ("lost", _("Lost")),
    ("no_orders", _("No orders")),
]
PYRAMID_CHOICES = [
    ("top", _("Top")),
    ("large", _("Large")),
    ("medium", _("Medium")),
    ("small", _("Small")),
    ("inactive", _("Inactive")),
]
# Where the margin of W = v × m came from (core.clv.MarginSource); shown next to W.
MARGIN_SOURCE_CHOICES = [
    ("agreed", _("agreed margin")),
    ("observed", _("observed gross margin")),
    ("default", _("default margin")),
]
