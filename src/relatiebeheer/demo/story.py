"""The demo: Studio Noord Fashion B.V. and the Dutch retailers it sells to.

The story follows the lesson: a fashion brand's account manager (Daan Jansen) has just
finished his first sales trajectory with de Bijenkorf — six orders in two years, on
average € 9.500, at a 15 % margin, so the simple CLV is € 8.550,00 per 2 years. Around
it sit about fifty other accounts (department stores, a chain with branches, a buying
group of northern boutiques, webshops, prospects) with contacts, consent, orders,
credit notes, costs, contact moments and tasks.

Everything is written through the services, as the user who would have done it (the
account's manager, or the sales manager for accounts without one), so permissions,
validation and the audit log are the real ones. The data is deterministic: one fixed
random seed, and every date counted back from ``today`` so the story always looks
recent. :func:`load` runs in one transaction: all or nothing.

All people, email domains (under the reserved ``.example`` top-level domain, so no
mail can ever reach anyone) and small businesses are invented; de Bijenkorf is the
lesson's own example.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import phonenumbers
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from stdnum.eu import vat as eu_vat

from relatiebeheer.audit.services import audit_log
from relatiebeheer.common.writers import writer
from relatiebeheer.core.money import quantize_money
from relatiebeheer.demo.extensions import run_extensions
from relatiebeheer.hooks import accounts_changed
from relatiebeheer.organisation.models import OrganisationSettings
from relatiebeheer.organisation.services import organisation_settings_update
from relatiebeheer.relations.groups import buying_group_create
from relatiebeheer.relations.models import (
    Account,
    BuyingGroup,
    ConsentPurpose,
    ConsentRecord,
    Contact,
    Interaction,
    Task,
)
from relatiebeheer.relations.services import (
    account_create,
    consent_record,
    contact_create,
    interaction_log,
    task_create,
)
from relatiebeheer.sales.models import CostEntry, Order
from relatiebeheer.sales.services import cost_entry_create, order_create
from relatiebeheer.users.models import Role, User

SEED = 20260315
# A demo password on purpose: printed by `make run` for everyone to read.
DEMO_PASSWORD = "relatie-demo-2026"  # noqa: S105
COMPANY_NAME = "Studio Noord Fashion B.V."
BUYING_GROUP_NAME = "Inkoopcombinatie Mode Noord"
BIJENKORF = "de Bijenkorf"
BIJENKORF_ORDERS = (  # (days before today, revenue in euros): 6 orders, average € 9.500
    (700, 9200),
    (580, 9800),
    (455, 9500),
    (330, 9100),
    (190, 9900),
    (25, 9500),
)
BIJENKORF_COST_RATIO = Decimal("0.85")  # cost of goods 85 % of revenue: margin 15 %
CONSENT_TEXT = "privacyverklaring-2024-03"
WITHDRAWN_AT = "Boetiek Waalkade"  # its first contact unsubscribed from campaign mails


class DemoError(Exception):
    """The demo cannot be loaded into this database as it is."""


# --- users ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    sees: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


DEMO_USERS = (
    DemoUser("sanne", "Sanne", "de Vries", Role.SALES_MANAGER, "all accounts; assigns portfolios"),
    DemoUser("daan", "Daan", "Jansen", Role.ACCOUNT_MANAGER, "his portfolio, incl. de Bijenkorf"),
    DemoUser("eva", "Eva", "Bakker", Role.ACCOUNT_MANAGER, "her portfolio (not de Bijenkorf)"),
    DemoUser("lezer", "Lotte", "Lezer", Role.READ_ONLY, "all accounts, changes nothing"),
    DemoUser("beheer", "Bart", "Beheer", Role.ADMIN, "everything, plus the Django admin"),
)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# --- the world: cities, names, products --------------------------------------------------


@dataclass(frozen=True)
class City:
    postal: tuple[int, ...]  # the four digits of real postal codes in its centre
    area_code: str  # the trunk prefix of its landline numbers, e.g. "020"
    streets: tuple[str, ...]


CITIES = {
    "Amsterdam": City(
        (1012, 1015, 1016, 1017),
        "020",
        ("Kalverstraat", "P.C. Hooftstraat", "Utrechtsestraat", "Haarlemmerdijk", "Rozengracht"),
    ),
    "Rotterdam": City(
        (3011, 3012, 3014), "010", ("Lijnbaan", "Meent", "Nieuwe Binnenweg", "Witte de Withstraat")
    ),
    "Den Haag": City(
        (2511, 2512, 2513), "070", ("Spuistraat", "Hoogstraat", "Noordeinde", "Frederikstraat")
    ),
    "Utrecht": City(
        (3511, 3512), "030", ("Oudegracht", "Steenweg", "Lange Elisabethstraat", "Twijnstraat")
    ),
    "Eindhoven": City((5611,), "040", ("Demer", "Rechtestraat", "Kleine Berg", "Hooghuisstraat")),
    "Groningen": City(
        (9711, 9712), "050", ("Herestraat", "Folkingestraat", "Oude Ebbingestraat", "Zwanestraat")
    ),
    "Leeuwarden": City((8911,), "058", ("Nieuwestad", "Kleine Kerkstraat", "Wirdumerdijk")),
    "Assen": City((9401,), "0592", ("Kruisstraat", "Gedempte Singel", "Oudestraat")),
    "Drachten": City((9201,), "0512", ("Noordkade", "Zuidkade", "Moleneind")),
    "Emmen": City((7811,), "0591", ("Hoofdstraat", "Marktplein", "Weiert")),
    "Sneek": City((8601,), "0515", ("Oosterdijk", "Kruizebroederstraat", "Marktstraat")),
    "Zwolle": City((8011,), "038", ("Diezerstraat", "Sassenstraat", "Luttekestraat")),
    "Kampen": City((8261,), "038", ("Oudestraat", "IJsselkade")),
    "Amersfoort": City((3811,), "033", ("Langestraat", "Krommestraat", "Utrechtsestraat")),
    "Apeldoorn": City((7311,), "055", ("Hoofdstraat", "Deventerstraat", "Korenstraat")),
    "Tilburg": City((5038,), "013", ("Heuvelstraat", "Nieuwlandstraat", "Korte Heuvel")),
    "Breda": City((4811,), "076", ("Ginnekenstraat", "Eindstraat", "Karrestraat")),
    "'s-Hertogenbosch": City((5211,), "073", ("Hinthamerstraat", "Vughterstraat", "Kerkstraat")),
    "Maastricht": City((6211,), "043", ("Grote Staat", "Stokstraat", "Wolfstraat")),
    "Haarlem": City((2011,), "023", ("Grote Houtstraat", "Kruisstraat", "Zijlstraat")),
    "Leiden": City((2311,), "071", ("Haarlemmerstraat", "Breestraat", "Nieuwe Rijn")),
    "Delft": City((2611,), "015", ("Choorstraat", "Oude Langendijk", "Brabantse Turfmarkt")),
    "Nijmegen": City((6511,), "024", ("Broerstraat", "Lange Hezelstraat", "Molenstraat")),
    "Arnhem": City((6811,), "026", ("Ketelstraat", "Roggestraat", "Jansstraat")),
    "Alkmaar": City((1811,), "072", ("Langestraat", "Laat", "Mient")),
    "Middelburg": City((4331,), "0118", ("Lange Delft", "Segeersstraat", "Markt")),
    "Bergen op Zoom": City((4611,), "0164", ("Zuivelstraat", "Fortuinstraat")),
}

FIRST_NAMES = """
Marieke Joost Lotte Bram Femke Thijs Anouk Ruben Iris Jeroen Esther Mark Linda Sven Noor Koen
Eline Wouter Ilse Pieter Sabine Jasper Mirjam Niels Fleur Hanneke Rik Yara Martijn Nadia Mehmet
Fatima Monique Roos Daphne Stijn Karin Gijs Willemijn Sem
""".split()
LAST_NAMES = """
de Jong, de Boer, van Dijk, Visser, Smit, Meijer, de Groot, Mulder, Bos, Vos, Peters, Dekker,
Brouwer, de Wit, Dijkstra, Smits, de Graaf, van der Meer, Kok, Jacobs, de Haan, Vermeulen,
van den Berg, Schouten, Willems, Hoekstra, Koster, Prins, Postma, Kuipers, Huisman, Sanders,
Yilmaz, El Amrani, Wijaya, Veenstra, Timmermans, van Wijk, Bosman, Kramer
""".replace("\n", " ").split(", ")
ENGLISH_NAMES = (("Emma", "Clarke"), ("Oliver", "Hughes"), ("Sophie", "Laurent"), ("James", "Wood"))
INTERESTS = """
golf tennis wielrennen wijn kunst zeilen voetbal koken hardlopen theater fotografie reizen hockey
muziek
""".split()
ROLES_BY_INDUSTRY = {
    "warenhuis": (
        "inkoper dameskleding",
        "inkoper herenmode",
        "afdelingsmanager mode",
        "category manager",
    ),
    "ketenwinkel": ("hoofdinkoper", "filiaalmanager", "visual merchandiser", "financieel adm."),
    "modeboetiek": ("eigenaar", "bedrijfsleider", "verkoopmedewerker"),
    "schoenenwinkel": ("eigenaar", "bedrijfsleider", "inkoper"),
    "webwinkel": ("e-commerce manager", "inkoper", "klantenservice", "financieel adm."),
}

# category: (product, wholesale price per piece excl. VAT), …
CATALOGUE = {
    "jassen": (
        ("Wollen jas Amstel", "129.00"),
        ("Trenchcoat Vondel", "109.00"),
        ("Gewatteerde jas Noorderzon", "89.00"),
        ("Regenjas Wadden", "69.00"),
    ),
    "jurken": (
        ("Jurk Lotte viscose", "49.50"),
        ("Maxi-jurk Zomerzon", "59.00"),
        ("Gebreide jurk Hygge", "64.00"),
        ("Wikkeljurk Rosa", "54.00"),
    ),
    "broeken": (
        ("Pantalon Keizersgracht", "44.00"),
        ("Jeans Straight Noord", "39.50"),
        ("Chino Havenkade", "36.00"),
        ("Wijde broek Plooi", "42.00"),
    ),
    "truien": (
        ("Trui merino Ameland", "52.00"),
        ("Vest kasjmiermix Vlieland", "68.00"),
        ("Coltrui Terschelling", "46.00"),
    ),
    "blouses": (
        ("Blouse Zijdelook", "34.50"),
        ("Overhemd Oxford", "32.00"),
        ("Linnen blouse Texel", "38.00"),
    ),
    "accessoires": (
        ("Sjaal wol Wadden", "18.50"),
        ("Riem leer Zadel", "14.00"),
        ("Shopper Grachten", "27.50"),
        ("Muts Noorderlicht", "9.50"),
    ),
    "schoenen": (
        ("Enkellaars nubuck Drenthe", "64.00"),
        ("Sneaker canvas Strand", "29.00"),
        ("Loafer Herengracht", "49.00"),
    ),
}
SPRING = {"jurken": 4, "blouses": 3, "broeken": 3, "accessoires": 2, "schoenen": 1, "jassen": 1}
AUTUMN = {"jassen": 4, "truien": 3, "broeken": 2, "accessoires": 2, "schoenen": 1, "jurken": 1}
SHOES = {"schoenen": 6, "accessoires": 2}


# --- the accounts ------------------------------------------------------------------------

# Columns (two or more spaces apart): name; industry (W warenhuis, K ketenwinkel,
# B modeboetiek, S schoenenwinkel, O webwinkel); city; status (key, cus, pro); manager
# ("-" for none); average order value in euros; orders a year; first order so many days
# ago. Extra: m<margin %> (the account's own margin), c<contacts>, u<days> (no orders in
# the last <days>: a lapsing customer), branch (of the head office above), group (member
# of the buying group), novat (no VAT number on file).
ACCOUNTS = """
de Bijenkorf                     W  Amsterdam         key  daan       0  0    0     m15 c3
Hollandse Baai Warenhuizen B.V.  W  Rotterdam         key  sanne  12500  4    1060  m18 c4
Modehuis Verhoef                 K  Utrecht           key  eva     7800  4    1040  m22 c3
Modehuis Verhoef Amersfoort      K  Amersfoort        cus  eva     1800  2    900   m22 c1 branch
Modehuis Verhoef Zwolle          K  Zwolle            cus  eva     1600  2    780   m22 c1 branch
Modehuis Verhoef Apeldoorn       K  Apeldoorn         cus  eva     1500  2    420   m22 c1 branch
Kledingkast Online B.V.          O  Eindhoven         key  eva     5200  4    980   m25 c3
Stijl & Stof Mode B.V.           K  Breda             key  daan    6400  4    1080  m24 c3
Stijl & Stof Tilburg             K  Tilburg           cus  daan    1400  2    700   m24 c1 branch
Stijl & Stof 's-Hertogenbosch    K  's-Hertogenbosch  cus  daan    1300  2    380   m24 c1 branch
Boetiek Hanze                    B  Groningen         cus  eva     2400  2    1000  group
Modehuis Elfsteden               B  Leeuwarden        cus  eva     2200  2    950   group
Boetiek De Drentse Roos          B  Assen             cus  eva     1900  2    820   group c1
Mode aan de Vaart                B  Drachten          cus  eva     1700  2    640   group
Zilt Mode & Meer                 B  Sneek             cus  eva     2100  2    500   group c1
Boetiek Hunebed                  B  Emmen             pro  eva        0  0    0     group c1 novat
Boetiek Grachtengordel           B  Amsterdam         cus  daan    2100  2    1050
Jordaan Label Store              B  Amsterdam         cus  daan    2400  2.5  760
Modezaak Spaarne                 B  Haarlem           cus  daan    2600  2.5  990   c3
Boutique Rapenburg               B  Leiden            cus  daan    1900  2    870
Delfts Mode Atelier              B  Delft             cus  daan    1800  2.5  1040  u290
Boetiek Noordeinde               B  Den Haag          cus  daan    3200  2    930   c3
Jeans & Jassen Compagnie         K  Rotterdam         cus  sanne   4800  3    1020  m27 c3
Boetiek Oudegracht               B  Utrecht           cus  eva     2300  2.5  880
Maison Mosa                      B  Maastricht        cus  eva     3100  2    1010  c3
Boetiek Waalkade                 B  Nijmegen          cus  eva     2000  2.5  1030  u340
Voetstap Schoenen                S  Arnhem            cus  eva     1700  2    800
Schoenhuis De Zool               S  Apeldoorn         cus  daan    1500  2    690
Modehuis Kaasmarkt               B  Alkmaar           cus  daan    2200  2    720
Boetiek Sassenpoort              B  Zwolle            cus  eva     1900  2    610
Label Lichtstad                  B  Eindhoven         cus  eva     2500  2    840   c3
Boetiek Hinthamer                B  's-Hertogenbosch  cus  daan    2000  2    560
Noorderlicht Mode                B  Groningen         cus  eva     2300  2    1000  u200
Boetiek Lindeboom                B  Amersfoort        cus  eva     1800  2    450
Modehuis IJsselkade              B  Kampen            cus  eva     1600  2    300   c1
Jurkjesplein Webwinkel           O  Amsterdam         cus  daan    2900  4    600   c3
Laarzenloods Online              O  Zwolle            cus  eva     2200  3    900
Stijlvol Thuis Webshop           O  Utrecht           cus  sanne   3400  5    80
Mode Compagnie Zuid              K  Maastricht        cus  sanne   4200  3    1000  m28 c3
Modezaak Zeezout                 B  Middelburg        cus  daan    1700  2    260   c1
Boetiek Kruisstraat              B  Haarlem           cus  -       1600  2    540   c1
Warenhuis Hofstad                W  Den Haag          pro  sanne      0  0    0     c3
Modehuis Domtoren                K  Utrecht           pro  -          0  0    0     novat
Trendkast Webwinkel              O  Rotterdam         pro  -          0  0    0     c1 novat
Boetiek Veluwezoom               B  Arnhem            pro  daan       0  0    0     c1 novat
Sneakerhal Eindhoven             S  Eindhoven         pro  eva        0  0    0
Modehuis Markiezenhof            B  Bergen op Zoom    pro  daan       0  0    0     c1 novat
Atelier Delta Mode               B  Rotterdam         pro  daan       0  0    0     novat
Boetiek Spui                     B  Den Haag          pro  -          0  0    0     c1 novat
Modewinkel De Kleine Berg        B  Eindhoven         pro  eva        0  0    0     c1 novat
"""
INDUSTRIES = {
    "W": "warenhuis",
    "K": "ketenwinkel",
    "B": "modeboetiek",
    "S": "schoenenwinkel",
    "O": "webwinkel",
}
KEY, CUSTOMER, PROSPECT = (
    Account.Status.KEY_ACCOUNT,
    Account.Status.CUSTOMER,
    Account.Status.PROSPECT,
)
STATUSES = {"key": KEY, "cus": CUSTOMER, "pro": PROSPECT}


@dataclass(frozen=True)
class AccountSpec:
    name: str
    industry: str
    city: str
    status: str
    manager: str | None  # username
    domain: str  # of the email addresses and website (under .example)
    aov: int = 0  # average order value in euros; 0 = no orders (prospects)
    per_year: float = 0  # orders per year
    since: int = 0  # first order this many days before today
    until: int = 0  # last order at least this many days ago (lapsing customers)
    margin: int | None = None  # the account's own margin (%), else the default
    parent: str | None = None  # name of the head office
    group: bool = False  # member of the buying group
    contacts: int = 2
    vat: bool = True


def _domain(name: str) -> str:
    name = name.lower().removesuffix(" b.v.").replace("&", "en")
    return "".join(ch for ch in _ascii(name) if ch.isalnum())


def _parse_accounts(table: str) -> tuple[AccountSpec, ...]:
    specs: list[AccountSpec] = []
    head: AccountSpec | None = None
    for row in table.strip().splitlines():
        name, industry, city, status, manager, aov, per_year, since, *rest = re.split(
            r"\s{2,}", row
        )
        extra = rest[0].split() if rest else []
        options = {
            word[0]: int(word[1:]) for word in extra if word[0] in "mcu" and word[1:].isdigit()
        }
        branch = "branch" in extra
        spec = AccountSpec(
            name=name,
            industry=INDUSTRIES[industry],
            city=city,
            status=STATUSES[status],
            manager=None if manager == "-" else manager,
            domain=head.domain if branch and head else _domain(name),
            aov=int(aov),
            per_year=float(per_year),
            since=int(since),
            until=options.get("u", 0),
            margin=options.get("m"),
            parent=head.name if branch and head else None,
            group="group" in extra,
            contacts=options.get("c", 2),
            vat=not branch and "novat" not in extra,
        )
        if not branch:
            head = spec
        specs.append(spec)
    return tuple(specs)


SPECS = _parse_accounts(ACCOUNTS)


# --- contact moments: what was said ------------------------------------------------------

C = Interaction.Channel
K = Interaction.Kind
MOMENTS = {
    K.QUESTION: (
        (
            C.PHONE,
            "Vraag over levertijd {product}",
            "Gebeld met de vraag wanneer {product} binnenkomt; levering in week {week} bevestigd.",
        ),
        (
            C.EMAIL,
            "Vraag over maatvoering {product}",
            "Maattabel gestuurd en uitgelegd dat {product} klein valt.",
        ),
        (
            C.PHONE,
            "Vraag over factuur",
            "Factuur doorgenomen; korting voor voorinschrijving stond er goed op.",
        ),
        (C.CHAT, "Vraag over retourprocedure", "Retourformulier en voorwaarden toegelicht."),
    ),
    K.LOOKED_INTO: (
        (
            C.EMAIL,
            "Nagezocht: nalevering {product}",
            "Bij het magazijn nagevraagd; de nalevering gaat deze week mee.",
        ),
        (
            C.PHONE,
            "Uitgezocht: afwijkende kleur in partij {product}",
            "Partij vergeleken met het staal; kleur valt binnen de tolerantie, foto's gestuurd.",
        ),
        (
            C.EMAIL,
            "Zending nagezocht bij de vervoerder",
            "Zending stond vast in het depot; alsnog de volgende dag afgeleverd.",
        ),
    ),
    K.PROACTIVE: (
        (
            C.PHONE,
            "Actie aangekondigd: 5 % korting bij voorinschrijving",
            "Voorinschrijving voor het nieuwe seizoen aangekondigd; klant bekijkt de lookbook.",
        ),
        (
            C.EMAIL,
            "Nieuwe collectie aangekondigd",
            "Lookbook en prijslijst van de nieuwe collectie gestuurd.",
        ),
        (
            C.PHONE,
            "Herinnering: deadline voororder",
            "Gebeld om aan de deadline voor de voororder te herinneren.",
        ),
    ),
    K.SERVICE: (
        (
            C.EMAIL,
            "Herstel van beschadigde {product} geregeld",
            "Ophaalopdracht gemaakt; herstelde stuks gaan binnen twee weken terug.",
        ),
        (
            C.PHONE,
            "Extra hangtags en etiketten nagestuurd",
            "Hangtags ontbraken in de laatste levering; per post nagestuurd.",
        ),
        (
            C.VISIT,
            "Presentatiemateriaal in de winkel geplaatst",
            "Paspop en schapkaarten voor de nieuwe collectie geplaatst.",
        ),
    ),
    K.COMPLAINT: (
        (
            C.PHONE,
            "Klacht: levering te laat",
            "Levering kwam een week te laat; excuses gemaakt en verzendkosten gecrediteerd.",
        ),
        (
            C.EMAIL,
            "Klacht: naden van {product} lieten los",
            "Foto's ontvangen; kwaliteitscontrole ingeschakeld en creditering toegezegd.",
        ),
        (
            C.PHONE,
            "Klacht: verkeerde maten geleverd",
            "Verkeerde maatverdeling geleverd; omruiling afgesproken.",
        ),
    ),
    K.SALES: (
        (
            C.VISIT,
            "Collectiepresentatie {season}",
            "Collectie in de winkel gepresenteerd; interesse in {product}.",
        ),
        (
            C.VIDEO,
            "Jaargesprek en afspraken volgend seizoen",
            "Omzet van dit jaar besproken en afspraken gemaakt over het volgende seizoen.",
        ),
        (
            C.VISIT,
            "Winkelbezoek en gesprek over schapindeling",
            "Samen gekeken hoe de collectie beter in beeld komt op de winkelvloer.",
        ),
    ),
}
PROSPECT_MOMENTS = (
    (
        K.SALES,
        C.VISIT,
        "Kennismakingsgesprek",
        "Eerste kennismaking; werkt nu met twee andere merken, staat open voor een proeforder.",
    ),
    (
        K.SALES,
        C.VIDEO,
        "Online presentatie van de collectie",
        "Collectie online doorgelopen; prijslijst en leveringsvoorwaarden gestuurd.",
    ),
    (
        K.PROACTIVE,
        C.PHONE,
        "Uitnodiging voor de showroomdag",
        "Uitgenodigd voor de showroomdag in Amsterdam.",
    ),
    (
        K.QUESTION,
        C.EMAIL,
        "Vraag over minimale orderwaarde",
        "Minimale orderwaarde en levertijden uitgelegd.",
    ),
)
EVENTS = {  # social binding: an event matched to a personal interest
    "golf": "Golfdag met relaties",
    "tennis": "VIP-dag tennistoernooi",
    "zeilen": "Zeildag op het IJsselmeer",
    "wijn": "Wijnproeverij bij de najaarspresentatie",
    "kunst": "Rondleiding tentoonstelling met relaties",
    "voetbal": "Businessseats voetbalwedstrijd",
    "wielrennen": "Fietstocht over de Veluwe met relaties",
    "koken": "Kookworkshop voor vaste klanten",
}
DEFAULT_EVENT = "Modeshow nieuwe collectie in de showroom"
MINUTES = {
    C.PHONE: (5, 20),
    C.EMAIL: (5, 15),
    C.CHAT: (5, 10),
    C.VIDEO: (30, 45),
    C.VISIT: (60, 120),
    C.EVENT: (180, 240),
}
INBOUND = {K.QUESTION, K.COMPLAINT}


# --- helpers -----------------------------------------------------------------------------


def _email(first: str, last: str, domain: str) -> str:
    local = f"{first[0]}.{last}".lower().replace(" ", "").replace("'", "")
    return f"{_ascii(local)}@{domain}.example"


def _valid_phone(number: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(number, "NL"))


def _nl_vat(rng: random.Random) -> str:
    """A Dutch VAT number whose 9 digits pass the eleven-test (validated with stdnum)."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        check = sum((9 - i) * d for i, d in enumerate(digits)) % 11
        if digits[0] and check < 10:
            number = "NL" + "".join(map(str, digits)) + f"{check}B01"
            if eu_vat.is_valid(number):
                return number


def _at(day: date, rng: random.Random) -> datetime:
    """An aware moment in office hours on ``day`` (Europe/Amsterdam)."""
    moment = time(rng.randint(9, 16), rng.choice((0, 15, 30, 45)))
    return datetime.combine(day, moment, tzinfo=timezone.get_default_timezone())


@dataclass
class PlannedOrder:
    account: str
    day: date
    lines: list[dict]
    status: str = Order.Status.PAID
    number: str = ""
    notes: str = ""
    created: Order | None = None


@dataclass
class Summary:
    users: list[str] = field(default_factory=list)
    kept_users: list[str] = field(default_factory=list)
    accounts: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


# --- the story ---------------------------------------------------------------------------


class Story:
    """Builds the demo world, writing everything through the services as its users."""

    def __init__(self, *, actor: User, today: date) -> None:
        self.actor = actor
        self.today = today
        self.rng = random.Random(SEED)
        self.users: dict[str, User] = {}
        self.accounts: dict[str, Account] = {}
        self.contacts: dict[str, list[Contact]] = {}
        self.orders: dict[str, list[PlannedOrder]] = {}
        self.summary = Summary()
        self.kvk_used: set[int] = set()
        self.interests: dict[int, list[str]] = {}

    # -- who does it

    def actor_for(self, account: Account) -> User:
        """The account's manager, or the sales manager for unassigned accounts."""
        return account.manager or self.users["sanne"]

    def days_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    # -- build

    def build(self) -> Summary:
        self.create_users()
        self.configure_organisation()
        group = self.create_buying_group()
        self.plan_orders()
        for spec in SPECS:
            self.create_account(spec, group)
        for spec in SPECS:
            account = self.accounts[spec.name]
            self.create_contacts(spec, account)
            if spec.name == BIJENKORF:
                self.bijenkorf_story(account)
                continue
            self.create_orders(account)
            self.create_costs(spec, account)
            self.create_moments(spec, account)
        self.create_credit_notes()
        self.count()
        run_extensions(self)
        return self.summary

    def count(self) -> None:
        ids = [account.pk for account in self.accounts.values()]
        accounts = Account.objects.filter(pk__in=ids)
        self.summary.accounts = {
            status: accounts.filter(status=status).count() for status in STATUSES.values()
        }
        orders = Order.objects.filter(account__in=ids)
        self.summary.counts = {
            "contacts": Contact.objects.filter(account__in=ids).count(),
            "consent statements": ConsentRecord.objects.filter(contact__account__in=ids).count(),
            "orders": orders.filter(credit_of__isnull=True).count(),
            "credit notes": orders.filter(credit_of__isnull=False).count(),
            "cost entries": CostEntry.objects.filter(account__in=ids).count(),
            "contact moments": Interaction.objects.filter(account__in=ids).count(),
            "tasks": Task.objects.filter(account__in=ids).count(),
        }

    def create_users(self) -> None:
        for demo in DEMO_USERS:
            user = User.objects.filter(username=demo.username).first()
            if user is not None:
                if user.role != demo.role:
                    raise DemoError(
                        f"A user named {demo.username!r} exists already with role {user.role!r}; "
                        f"the demo needs that name for a {demo.role!r}."
                    )
                self.summary.kept_users.append(demo.username)
                self.users[demo.username] = user
                continue
            user = User(
                username=demo.username,
                first_name=demo.first_name,
                last_name=demo.last_name,
                email=f"{demo.username}@studionoord-demo.example",
                role=demo.role,
                language="nl",
                is_staff=demo.is_admin,
                is_superuser=demo.is_admin,
            )
            try:
                validate_password(DEMO_PASSWORD, user)
            except ValidationError as exc:
                raise DemoError(
                    f"the demo password is refused here: {' '.join(exc.messages)}"
                ) from exc
            # A hash (and salt) of its own per user, even for one shared demo password: equal
            # hashes would tell anyone who reads the table that the passwords are equal.
            user.password = make_password(DEMO_PASSWORD)
            user.save()
            audit_log(actor=self.actor, action="user.create", obj=user, extra={"role": demo.role})
            self.users[demo.username] = user
            self.summary.users.append(demo.username)

    def configure_organisation(self) -> None:
        settings = OrganisationSettings.load()
        organisation_settings_update(
            actor=self.actor,
            version=settings.version,
            data={
                "name": COMPANY_NAME,
                "default_margin": Decimal("30.00"),
                "hourly_cost": Decimal("60.00"),
            },
        )

    def create_buying_group(self) -> BuyingGroup:
        group = BuyingGroup.objects.filter(name=BUYING_GROUP_NAME).first()
        return group or buying_group_create(actor=self.users["sanne"], name=BUYING_GROUP_NAME)

    def create_account(self, spec: AccountSpec, group: BuyingGroup) -> None:
        rng = self.rng
        city = CITIES[spec.city]
        parent = self.accounts[spec.parent] if spec.parent else None
        if parent is not None:
            kvk = parent.kvk_number  # a branch (vestiging) shares its company's KvK number
        else:
            number = rng.randint(10_000_000, 99_999_999)
            while number in self.kvk_used:
                number = rng.randint(10_000_000, 99_999_999)
            self.kvk_used.add(number)
            kvk = str(number)
        letters = "".join(rng.choice("ABCEGHJKLMNPRTVWXZ") for _ in range(2))
        street = f"{rng.choice(city.streets)} {rng.randint(1, 180)}"
        postal = f"{rng.choice(city.postal)} {letters}"
        if spec.name == BIJENKORF:
            street, postal = "Dam 1", "1012 JS"
        manager = self.users[spec.manager] if spec.manager else None
        data = {
            "name": spec.name,
            "kvk_number": kvk,
            "vat_number": _nl_vat(rng) if spec.vat else "",
            "industry": spec.industry,
            "street": street,
            "postal_code": postal,
            "city": spec.city,
            "website": f"https://www.{spec.domain}.example/",
            "status": spec.status,
            "manager": manager,
            "parent": parent,
            "buying_group": group if spec.group else None,
            "margin": Decimal(spec.margin) if spec.margin is not None else None,
        }
        if spec.name == BIJENKORF:
            data["notes"] = (
                "Eerste salestraject afgerond: zes orders in twee jaar, gemiddeld € 9.500, "
                "marge 15 %. Volgende stap: jaarafspraken voor het tweede traject."
            )
        # Account managers put their own accounts in; the sales manager the rest.
        actor = (
            manager
            if manager is not None and manager.role == Role.ACCOUNT_MANAGER
            else self.users["sanne"]
        )
        self.accounts[spec.name] = account_create(actor=actor, data=data)

    # -- contacts and consent

    def phone(self, city: str, *, mobile: bool) -> str:
        rng = self.rng
        while True:
            if mobile:
                number = (
                    "06"
                    + str(rng.randint(1, 5))
                    + "".join(str(rng.randint(0, 9)) for _ in range(7))
                )
            else:
                code = CITIES[city].area_code
                rest = 10 - len(code)
                number = (
                    code
                    + str(rng.randint(2, 9))
                    + "".join(str(rng.randint(0, 9)) for _ in range(rest - 1))
                )
            if _valid_phone(number):
                return number

    def create_contacts(self, spec: AccountSpec, account: Account) -> None:
        rng = self.rng
        actor = self.actor_for(account)
        if spec.name == BIJENKORF:
            people = [
                ("Marieke", "van Leeuwen", "inkoper dameskleding", "nl", ["tennis", "kunst"]),
                ("Joost", "Hendriks", "filiaalmanager", "nl", ["wielrennen"]),
                ("Priya", "Ramdin", "financieel administrateur", "nl", ["koken", "reizen"]),
            ]
        else:
            roles = ("filiaalmanager",) if spec.parent else ROLES_BY_INDUSTRY[spec.industry]
            people = []
            for index in range(spec.contacts):
                if (spec.industry == "webwinkel" and index == 1) or rng.random() < 0.03:
                    first, last = rng.choice(ENGLISH_NAMES)
                    language = "en"
                else:
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    language = "nl"
                role = roles[index % len(roles)]
                interests = rng.sample(INTERESTS, rng.choice((0, 1, 1, 2, 2, 3)))
                people.append((first, last, role, language, interests))
        contacts = []
        for index, (first, last, role, language, interests) in enumerate(people):
            contact = contact_create(
                actor=actor,
                account=account,
                data={
                    "first_name": first,
                    "last_name": last,
                    "role": role,
                    "email": _email(first, last, spec.domain),
                    "phone": self.phone(spec.city, mobile=index > 0 or rng.random() < 0.3),
                    "language": language,
                },
                interests=interests,
            )
            self.interests[contact.pk] = list(interests)
            contacts.append(contact)
            first = index == 0
            self.consents(
                actor,
                contact,
                key=first and spec.name == BIJENKORF,
                withdraws=first and spec.name == WITHDRAWN_AT,
            )
        self.contacts[spec.name] = contacts

    def consents(self, actor: User, contact: Contact, *, key: bool, withdraws: bool) -> None:
        """Most contacts allow surveys, fewer campaigns and events; one withdrew."""
        rng = self.rng
        sources = (
            ConsentRecord.Source.IN_PERSON,
            ConsentRecord.Source.EMAIL,
            ConsentRecord.Source.WEB_FORM,
        )
        wishes = {
            ConsentPurpose.SURVEYS: key or rng.random() < 0.85,
            ConsentPurpose.CAMPAIGNS: key or withdraws or rng.random() < 0.45,
            ConsentPurpose.EVENTS: key or rng.random() < 0.35,
        }
        for purpose, granted in wishes.items():
            if granted:
                consent_record(
                    actor=actor,
                    contact=contact,
                    purpose=purpose,
                    granted=True,
                    source=rng.choice(sources),
                    text_version=CONSENT_TEXT,
                )
        if withdraws:  # through the unsubscribe link in a campaign mail
            consent_record(
                actor=actor,
                contact=contact,
                purpose=ConsentPurpose.CAMPAIGNS,
                granted=False,
                source=ConsentRecord.Source.UNSUBSCRIBE_LINK,
                text_version=CONSENT_TEXT,
            )

    # -- orders

    def order_lines(
        self, day: date, total: Decimal | None, target: int, ratio: Decimal, industry: str
    ) -> list[dict]:
        """Order lines worth about ``target`` (exactly ``total`` when given) at ``ratio`` cost."""
        rng = self.rng
        weights = (
            SHOES
            if industry == "schoenenwinkel"
            else SPRING
            if day.month <= 5 or day.month == 12
            else AUTUMN
        )
        categories = rng.sample(
            list(weights),
            k=min(len(weights), 2 + min(3, target // 3000)),
            counts=list(weights.values()),
        )
        categories = list(dict.fromkeys(categories))
        budget = Decimal(target) * (Decimal("0.8") if total is not None else 1)
        lines = []
        for index, category in enumerate(categories):
            product, price = rng.choice(CATALOGUE[category])
            price = Decimal(price)
            share = (
                budget
                / len(categories)
                * Decimal(rng.uniform(0.7, 1.3) if index < len(categories) - 1 else 1)
            )
            used = sum((line["revenue"] for line in lines), Decimal(0))
            if index == len(categories) - 1:
                share = max(budget - used, price * 2)
            quantity = max(2, int(share / price / 2) * 2)
            lines.append(
                {
                    "product": product,
                    "category": category,
                    "quantity": Decimal(quantity),
                    "revenue": price * quantity,
                }
            )
        if total is not None:
            rest = total - sum((line["revenue"] for line in lines), Decimal(0))
            if rest <= 0:  # cannot happen with the budget above; never book a wrong total
                raise DemoError(f"order lines exceed the order total of {total}")
            lines.append(
                {
                    "product": "Accessoires assortiment (gemengd)",
                    "category": "accessoires",
                    "quantity": Decimal(max(1, round(rest / 15))),
                    "revenue": rest,
                }
            )
        revenue = sum((line["revenue"] for line in lines), Decimal(0))
        cost_total = quantize_money(revenue * ratio)
        spent = Decimal(0)
        for line in lines[:-1]:
            line["cost"] = quantize_money(line["revenue"] * ratio)
            spent += line["cost"]
        lines[-1]["cost"] = cost_total - spent  # the last line takes the rounding
        return lines

    def plan_orders(self) -> None:
        """All orders first (numbered by date, like a real order book), written later."""
        rng = self.rng
        planned: list[PlannedOrder] = []
        for days, revenue in BIJENKORF_ORDERS:
            day = self.days_ago(days)
            lines = self.order_lines(
                day, Decimal(revenue), revenue, BIJENKORF_COST_RATIO, "warenhuis"
            )
            planned.append(PlannedOrder(BIJENKORF, day, lines))
        for spec in SPECS:
            if not spec.aov or spec.name == BIJENKORF:
                continue
            margin = Decimal(spec.margin if spec.margin is not None else 30) / 100
            day, last = self.days_ago(spec.since), self.days_ago(max(spec.until, 4))
            interval = 365 / spec.per_year
            while day <= last:
                ratio = 1 - margin + Decimal(rng.randint(-20, 20)) / 1000
                target = round(spec.aov * rng.uniform(0.7, 1.3))
                lines = self.order_lines(day, None, target, ratio, spec.industry)
                planned.append(PlannedOrder(spec.name, day, lines))
                day += timedelta(days=round(interval * rng.uniform(0.7, 1.3)))
        planned.sort(key=lambda o: (o.day, o.account))
        per_year: dict[int, int] = {}
        for order in planned:
            per_year[order.day.year] = per_year.get(order.day.year, 0) + 1
            order.number = f"SN-{order.day.year}-{per_year[order.day.year]:04d}"
            age = (self.today - order.day).days
            order.status = (
                Order.Status.PAID
                if age > 45
                else Order.Status.DELIVERED
                if age > 10
                else Order.Status.OPEN
            )
            self.orders.setdefault(order.account, []).append(order)
        # A few orders were cancelled (never an account's first, never de Bijenkorf's).
        candidates = [
            o for name, orders in self.orders.items() if name != BIJENKORF for o in orders[1:]
        ]
        for order in rng.sample(candidates, 3):
            order.status = Order.Status.CANCELLED
            order.notes = "Geannuleerd door de klant vóór levering."
        if self.orders[BIJENKORF][-1].status == Order.Status.OPEN:
            self.orders[BIJENKORF][-1].status = Order.Status.DELIVERED

    def create_orders(self, account: Account) -> None:
        actor = self.actor_for(account)
        for planned in self.orders.get(account.name, []):
            planned.created = order_create(
                actor=actor,
                account=account,
                data={
                    "date": planned.day,
                    "number": planned.number,
                    "status": planned.status,
                    "notes": planned.notes,
                },
                lines=planned.lines,
            )
            # order_create sets customer_since in the database when this object has none
            # or a later one, so keep the object in step (the orders come oldest first).
            if account.customer_since is None:
                account.customer_since = planned.day

    def create_credit_notes(self) -> None:
        """A handful of returns: credit notes naming their order, never more than it."""
        rng = self.rng
        reasons = (
            "Retour: beschadigd tijdens transport.",
            "Retour: verkeerde maten geleverd.",
            "Retour: naden lieten los (kwaliteitsklacht).",
            "Retour: kleur week af van het staal.",
            "Retour: te laat geleverd voor de actieweek.",
        )
        candidates = [
            o
            for name, orders in self.orders.items()
            if name != BIJENKORF
            for o in orders
            if o.status != Order.Status.CANCELLED and (self.today - o.day).days > 40
        ]
        per_year: dict[int, int] = {}
        for original, reason in zip(
            sorted(rng.sample(candidates, 5), key=lambda o: o.day), reasons, strict=True
        ):
            line = max(original.lines, key=lambda item: item["revenue"])
            returned = max(1, int(line["quantity"]) // 4)
            price = line["revenue"] / line["quantity"]
            day = original.day + timedelta(days=rng.randint(8, 25))
            per_year[day.year] = per_year.get(day.year, 0) + 1
            account = self.accounts[original.account]
            order_create(
                actor=self.actor_for(account),
                account=account,
                data={
                    "date": day,
                    "number": f"CN-{day.year}-{per_year[day.year]:04d}",
                    "status": Order.Status.PAID,
                    "credit_of": original.created,
                    "notes": reason,
                },
                lines=[
                    {
                        "product": f"Retour: {line['product']}",
                        "category": line["category"],
                        "quantity": Decimal(-returned),
                        "revenue": -quantize_money(price * returned),
                        "cost": -quantize_money(line["cost"] * returned / line["quantity"]),
                    }
                ],
            )

    # -- costs

    def create_costs(self, spec: AccountSpec, account: Account) -> None:
        """Costs made for a customer: account management, campaigns, bonuses, service."""
        orders = self.orders.get(spec.name)
        if not orders:
            return
        rng = self.rng
        actor = self.actor_for(account)
        key = spec.status == KEY
        first = orders[0].day
        entries = []
        year_start = first
        # Hours spent beyond the contact moments, booked yearly for the larger accounts.
        while spec.margin is not None and year_start <= self.today:
            amount = rng.randint(12, 25) * 100 if key else rng.randint(20, 60) * 10
            entries.append(
                (
                    year_start + timedelta(days=30),
                    CostEntry.Category.ACCOUNT_MANAGEMENT,
                    amount,
                    "Accountmanagement (uren buiten contactmomenten)",
                )
            )
            year_start += timedelta(days=365)
        if key or spec.group:
            entries.append(
                (
                    self.days_ago(rng.randint(20, 60)),
                    CostEntry.Category.INCENTIVE,
                    rng.randint(4, 12) * 50,
                    "Jaarbonus 2 % op omzet",
                )
            )
        if rng.random() < 0.5 or key:
            entries.append(
                (
                    self.days_ago(rng.randint(30, 300)),
                    CostEntry.Category.CAMPAIGN,
                    rng.randint(3, 15) * 50,
                    rng.choice(
                        (
                            "Etalagecampagne voorjaar",
                            "Co-op advertentie sociale media",
                            "Kortingsactie voorinschrijving",
                        )
                    ),
                )
            )
        if rng.random() < 0.4:
            entries.append(
                (
                    self.days_ago(rng.randint(10, 500)),
                    CostEntry.Category.SERVICE,
                    rng.randint(5, 30) * 5,
                    rng.choice(
                        (
                            "Spoedlevering per koerier",
                            "Herstel beschadigde stuks",
                            "Extra verzending nalevering",
                        )
                    ),
                )
            )
        if rng.random() < 0.4:
            entries.append(
                (
                    self.days_ago(rng.randint(80, 110)),
                    CostEntry.Category.GIFT_EVENT,
                    rng.randint(35, 60),
                    "Kerstpakket",
                )
            )
        for day, category, amount, description in entries:
            if day > self.today:
                continue
            cost_entry_create(
                actor=actor,
                account=account,
                data={
                    "date": day,
                    "category": category,
                    "amount": Decimal(amount),
                    "description": description,
                },
            )

    # -- contact moments and tasks

    def reading(self, kind: str, *, unhappy: bool) -> int | None:
        rng = self.rng
        if rng.random() > 0.65:
            return None
        scores = (1, 2, 2, 3) if kind == K.COMPLAINT else (2, 3, 3, 3, 4, 4, 4)
        score = rng.choice(scores)
        return max(1, score - 1) if unhappy else score

    def log(
        self,
        account: Account,
        *,
        actor: User | None = None,
        day: date,
        kind,
        channel,
        subject,
        notes="",
        satisfaction=None,
        contacts=(),
    ) -> Interaction:
        rng = self.rng
        low, high = MINUTES[channel]
        return interaction_log(
            actor=actor or self.actor_for(account),
            account=account,
            data={
                "occurred_at": _at(day, rng),
                "duration_minutes": rng.randint(low, high),
                "channel": channel,
                "kind": kind,
                "direction": Interaction.Direction.INBOUND
                if kind in INBOUND
                else Interaction.Direction.OUTBOUND,
                "subject": subject,
                "notes": notes,
                "satisfaction": satisfaction,
            },
            contacts=contacts,
        )

    def task(
        self,
        account: Account,
        title: str,
        *,
        due: int,
        done: bool = False,
        description: str = "",
        source=None,
    ) -> None:
        task_create(
            actor=self.actor_for(account),
            account=account,
            data={
                "title": title,
                "description": description,
                "due_date": self.today + timedelta(days=due),
                "done": done,
            },
            source_interaction=source,
        )

    def create_moments(self, spec: AccountSpec, account: Account) -> None:
        rng = self.rng
        contacts = self.contacts[spec.name]
        if spec.status == PROSPECT:
            for day in sorted(
                (rng.randint(3, 200) for _ in range(rng.randint(1, 3))), reverse=True
            ):
                kind, channel, subject, notes = rng.choice(PROSPECT_MOMENTS)
                self.log(
                    account,
                    day=self.days_ago(day),
                    kind=kind,
                    channel=channel,
                    subject=subject,
                    notes=notes,
                    satisfaction=self.reading(kind, unhappy=False),
                    contacts=contacts[:1],
                )
            due = rng.choice((-12, -4, 6, 15))
            self.task(
                account,
                "Kennismakingsafspraak maken" if rng.random() < 0.5 else "Proeforder voorstellen",
                due=due,
            )
            return
        lapsing = spec.until > 0
        count = rng.randint(5, 6) if spec.status == KEY else rng.randint(2, 3)
        horizon = min(spec.since, 720)
        kinds = (
            [K.QUESTION] * 3
            + [K.LOOKED_INTO] * 2
            + [K.PROACTIVE] * 2
            + [K.SERVICE] * 2
            + [K.SALES] * 2
            + [K.COMPLAINT]
        )
        days = sorted((rng.randint(2, horizon) for _ in range(count)), reverse=True)
        for day in days:
            kind = rng.choice(kinds)
            if lapsing and day < spec.until + 60:
                kind = rng.choice((K.COMPLAINT, K.PROACTIVE))
            channel, subject, notes = rng.choice(MOMENTS[kind])
            product = rng.choice(CATALOGUE[rng.choice(list(CATALOGUE))])[0]
            season = (
                "voorjaar/zomer"
                if self.days_ago(day).month in (10, 11, 12, 1, 2)
                else "herfst/winter"
            )
            fill = {"product": product, "week": rng.randint(2, 50), "season": season}
            moment = self.log(
                account,
                day=self.days_ago(day),
                kind=kind,
                channel=channel,
                subject=subject.format(**fill),
                notes=notes.format(**fill),
                satisfaction=self.reading(kind, unhappy=lapsing and day < spec.until + 120),
                contacts=[rng.choice(contacts)],
            )
            if kind == K.COMPLAINT:
                done = day > 30
                self.task(
                    account,
                    "Terugkoppeling klacht aan de klant",
                    due=-day + 7 if done else rng.choice((-5, 3)),
                    done=done,
                    description=moment.subject,
                    source=moment,
                )
        # Social binding: an event that matches someone's interest.
        if spec.status == KEY or rng.random() < 0.3:
            self.event(account, contacts, days_ago=rng.randint(20, 300))
        if rng.random() < 0.45:
            title, due = rng.choice(
                (
                    ("Offerte voororder volgend seizoen sturen", rng.randint(3, 25)),
                    ("Terugbellen over nalevering", rng.randint(-15, -1)),
                    ("Jaargesprek plannen", rng.randint(-30, 30)),
                    ("Uitnodiging showroomdag sturen", rng.randint(-10, 12)),
                )
            )
            self.task(account, title, due=due, done=due < -20)
        if lapsing:
            self.task(
                account,
                "Bellen: waarom bestelt de klant niet meer?",
                due=-rng.randint(3, 20),
                description="Lang geen orders en lage tevredenheid bij de laatste contacten.",
            )

    def event(self, account: Account, contacts: Sequence[Contact], *, days_ago: int) -> None:
        rng = self.rng
        guest, title = contacts[0], DEFAULT_EVENT
        for contact in contacts:
            matches = [name for name in self.interests[contact.pk] if name in EVENTS]
            if matches:
                guest, title = contact, EVENTS[matches[0]]
                break
        day = self.days_ago(days_ago)
        self.log(
            account,
            day=day,
            kind=K.EVENT,
            channel=C.EVENT,
            subject=title,
            notes=f"{guest.full_name} was te gast; goed gesprek buiten de winkel.",
            satisfaction=rng.choice((3, 4, 4)),
            contacts=[guest],
        )
        cost_entry_create(
            actor=self.actor_for(account),
            account=account,
            data={
                "date": day,
                "category": CostEntry.Category.GIFT_EVENT,
                "amount": Decimal(rng.randint(6, 25) * 10),
                "description": title,
            },
        )

    # -- de Bijenkorf: the lesson's example

    def bijenkorf_story(self, account: Account) -> None:
        daan, sanne = self.users["daan"], self.users["sanne"]
        buyer, store, finance = self.contacts[BIJENKORF]
        self.create_orders(account)
        first = self.orders[BIJENKORF][0].day
        for days, category, amount, description in (
            (
                (self.today - first).days - 20,
                CostEntry.Category.ACCOUNT_MANAGEMENT,
                1200,
                "Accountmanagement eerste jaar",
            ),
            (
                (self.today - first).days - 385,
                CostEntry.Category.ACCOUNT_MANAGEMENT,
                1200,
                "Accountmanagement tweede jaar",
            ),
            (300, CostEntry.Category.SERVICE, 95, "Spoedlevering per koerier"),
            (220, CostEntry.Category.CAMPAIGN, 650, "Co-op campagne voorinschrijving voorjaar"),
            (
                120,
                CostEntry.Category.GIFT_EVENT,
                350,
                "VIP-dag tennistoernooi voor de inkoper dameskleding",
            ),
        ):
            cost_entry_create(
                actor=daan,
                account=account,
                data={
                    "date": self.days_ago(days),
                    "category": category,
                    "amount": Decimal(amount),
                    "description": description,
                },
            )
        moments = (
            (
                690,
                K.SALES,
                C.VISIT,
                "Kennismaking en collectiepresentatie herfst/winter",
                "Eerste bezoek aan de inkoop dameskleding; proeforder jassen en truien besproken.",
                3,
                [buyer],
            ),
            (
                610,
                K.QUESTION,
                C.PHONE,
                "Vraag over levertijd wollen jassen",
                "Marieke belde of de jassen vóór week 38 binnen zijn; levering week 36 bevestigd.",
                3,
                [buyer],
            ),
            (
                470,
                K.PROACTIVE,
                C.PHONE,
                "Actie aangekondigd: 5 % korting bij voorinschrijving voorjaar",
                "Voorinschrijving aangekondigd; Marieke plant de order voor eind januari.",
                4,
                [buyer],
            ),
            (
                300,
                K.SERVICE,
                C.EMAIL,
                "Service: beschadigde dozen vervangen en spoed nageleverd",
                "Twee dozen kwamen beschadigd aan; binnen twee dagen per koerier vervangen.",
                3,
                [store],
            ),
            (
                205,
                K.SALES,
                C.VISIT,
                "Evaluatie eerste jaar met Sanne de Vries",
                "Met de salesmanager het eerste jaar geëvalueerd: afzet jassen boven verwachting.",
                4,
                [buyer, store],
            ),
            (
                120,
                K.EVENT,
                C.EVENT,
                "VIP-dag tennistoernooi",
                "Marieke was te gast (tennis); gesprek over uitbreiding naar herenmode.",
                4,
                [buyer],
            ),
            (
                60,
                K.LOOKED_INTO,
                C.EMAIL,
                "Nagezocht: nalevering maat 36 jurk Lotte",
                "Bij het magazijn nagevraagd; nalevering gaat volgende week mee.",
                3,
                [store],
            ),
            (
                12,
                K.QUESTION,
                C.PHONE,
                "Vraag over factuur van de laatste order",
                "Priya vroeg naar de betaaltermijn; 30 dagen na levering bevestigd.",
                4,
                [finance],
            ),
        )
        for days, kind, channel, subject, notes, reading, who in moments:
            actor = sanne if "Sanne" in subject else daan
            self.log(
                account,
                actor=actor,
                day=self.days_ago(days),
                kind=kind,
                channel=channel,
                subject=subject,
                notes=notes,
                satisfaction=reading,
                contacts=who,
            )
        self.task(
            account,
            "Kunstboek als dank voor het eerste traject sturen aan Marieke",
            due=-150,
            done=True,
        )
        self.task(
            account,
            "Voorstel voorinschrijving volgend seizoen sturen",
            due=5,
            description="Met korting voor voorinschrijving; Marieke wil het vóór haar inkoopronde.",
        )
        self.task(account, "Tweede salestraject plannen: jaarafspraken en herenmode", due=21)


@writer(bulk=True)
def load(*, actor: User, today: date | None = None) -> Summary:
    """Load the whole demo in one transaction (all or nothing) and return what was made.

    A bulk writer around the story: the story itself writes through the row services as
    its users (each audited); the apps' demo extensions (``run_extensions``) may write
    their example rows directly, inside this writer. One ``demo.load`` audit row names
    who loaded it, and the hook gets every demo account."""
    with transaction.atomic():
        story = Story(actor=actor, today=today or timezone.localdate())
        summary = story.build()
        audit_log(actor=actor, action="demo.load", extra=dict(summary.counts))
        accounts_changed([account.pk for account in story.accounts.values()])
        return summary
