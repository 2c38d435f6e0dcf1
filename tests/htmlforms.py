"""Read a form off a rendered page the way a browser would submit it.

``forms(html)`` gives every form of the page with its attributes and the name → values
its inputs, selects and textareas would submit as they stand (checked boxes only,
selected options only); ``form_data`` picks one. A test changes a field or two and posts
the form back unchanged otherwise, as a user would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    attrs: dict[str, str | None]
    data: dict[str, list[str]] = field(default_factory=dict)

    @property
    def action(self) -> str | None:
        return self.attrs.get("action")

    @property
    def posts(self) -> bool:
        return (self.attrs.get("method") or "get").lower() == "post"

    def add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.current: Form | None = None
        self._select: str | None = None
        self._select_multiple = False
        self._select_values: list[str] = []
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._option_value: str | None = None
        self._option_selected = False
        self._option_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if self.current is None:  # forms do not nest
                self.current = Form(a)
                self.forms.append(self.current)
            return
        form = self.current
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    value = a.get("value")
                    form.add(name, "on" if value is None else value)
                return
            form.add(name, a.get("value") or "")
        elif tag == "select" and name and "disabled" not in a:
            self._select, self._select_multiple = name, "multiple" in a
            self._select_values, self._first_option = [], None
        elif tag == "option" and self._select is not None:
            self._option_value = a.get("value")
            self._option_selected = "selected" in a
            self._option_text = []
        elif tag == "textarea" and name and "disabled" not in a:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)
        if self._select is not None:
            self._option_text.append(data)

    def handle_endtag(self, tag):
        form = self.current
        if tag == "form":
            self.current = None
        elif form is None:
            return
        elif tag == "option" and self._select is not None:
            value = (
                self._option_value
                if self._option_value is not None
                else "".join(self._option_text).strip()
            )
            if self._first_option is None:
                self._first_option = value
            if self._option_selected:
                self._select_values.append(value)
            self._option_value = None
        elif tag == "select" and self._select is not None:
            values = self._select_values
            if not values and not self._select_multiple and self._first_option is not None:
                values = [self._first_option]  # a browser submits the first option
            for value in values:
                form.add(self._select, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            form.add(self._textarea, text[1:] if text.startswith("\n") else text)
            self._textarea = None


def forms(html: str | bytes) -> list[Form]:
    reader = _FormReader()
    reader.feed(html.decode() if isinstance(html, bytes) else html)
    return reader.forms


def form_data(html: str | bytes, form_id: str | None = None) -> dict[str, list[str]]:
    """What one form would submit: the one with ``form_id``, else the first form."""
    found = forms(html)
    for form in found:
        if form_id is None or form.attrs.get("id") == form_id:
            return form.data
    return {}


def post_form_to(html: str | bytes, url: str, *, own_page: bool) -> dict[str, list[str]] | None:
    """The data of the form on this page that posts to ``url`` (on ``url``'s own page, a
    post form without an action counts), or ``None``."""
    for form in forms(html):
        if not form.posts:
            continue
        if form.action == url or (own_page and form.action in (None, "")):
            return form.data
    return None


def flat(data: dict[str, list[str]]) -> dict[str, str | list[str]]:
    """For Django's test client: one value as a string, several as a list."""
    return {k: v[0] if len(v) == 1 else v for k, v in data.items()}
