"""Fill empty msgstr entries of a .po file from a {msgid: msgstr} table.

Usage: python scripts/po_fill.py LOCALE.po TABLE.py
TABLE.py defines ``T = {...}``; plural entries map the singular msgid to a tuple
(singular, plural). Existing translations are kept; fuzzy flags on filled entries go.
Prints the msgids that are still untranslated.
"""

import re
import sys


def unquote(block: str) -> str:
    return (
        "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))
        .encode()
        .decode("unicode_escape")
        .encode("latin-1")
        .decode("utf-8")
    )


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(po_path: str, table_path: str) -> None:
    table: dict = {}
    exec(open(table_path, encoding="utf-8").read(), table)
    translations = table["T"]
    entries = open(po_path, encoding="utf-8").read().split("\n\n")
    missing = []
    out = []
    for entry in entries:
        m = re.search(r'^msgid ((?:".*"\n?)+)', entry, re.M)
        if not m:
            out.append(entry)
            continue
        msgid = unquote(m.group(1))
        if not msgid:
            out.append(entry)
            continue
        plural = "msgid_plural" in entry
        current = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', entry, re.M)
        if all(unquote(c) for c in current) and "#, fuzzy" not in entry:
            out.append(entry)
            continue
        value = translations.get(msgid)
        if value is None:
            missing.append(msgid)
            out.append(entry)
            continue
        head = entry[: entry.index("msgstr")]
        head = head.replace("#, fuzzy\n", "").replace(", fuzzy", "")
        if plural:
            one, many = value
            entry = head + f"msgstr[0] {quote(one)}\nmsgstr[1] {quote(many)}"
        else:
            entry = head + f"msgstr {quote(value)}"
        out.append(entry)
    open(po_path, "w", encoding="utf-8").write("\n\n".join(out))
    for msgid in missing:
        print("untranslated:", msgid)


if __name__ == "__main__":
    main(*sys.argv[1:])
