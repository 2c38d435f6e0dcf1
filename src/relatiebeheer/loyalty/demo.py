"""The loyalty part of the demo story.

* The **Gold Card**, like the lesson's wholesaler: customers spending € 12.000 or more
  in a year get a parking place, their own account manager, a separate service desk,
  may buy on account and join the bonus scheme automatically (1 % from € 12.000 up to
  3,5 % from € 40.000 on the year's spend); a savings action with points and rewards,
  and customer cards.
* **de Bijenkorf**: binding activities on all three levels (the pre-order discount and
  the payment terms; the VIP day at the tennis tournament, a thank-you art book for the
  buyer who loves art, the first-year review; a fixed account manager, rush deliveries,
  an EDI link planned), its wishes, the rapport with the buyer ("een klik"), trust and its competitors, an
  invitation to the tennis final the company sponsors, and the lesson's assignment: a
  loyalty campaign for de Bijenkorf (one account, measured before against after).
* An event with invitations and answers, a Gold campaign with a control group, and the
  programme evaluated a few times in the past so tiers, bonuses and the loyalty trend
  have a history.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from relatiebeheer.common.errors import InvalidInput
from relatiebeheer.relations.models import Contact, Interaction

from .binding import services as binding
from .bulk import evaluate
from .campaigns import services as campaigns
from .drivers import services as drivers
from .models import Event, Invitation, Reward
from .programme import services as programme_services

D = Decimal
GOLD_CARD = {
    "code": "gold-card",
    "name": "Gold Card",
    "description": (
        "Klanten die € 12.000 of meer per jaar besteden krijgen de Gold Card: een eigen "
        "parkeerplaats, een vaste accountmanager, een aparte servicedesk, kopen op rekening "
        "en sparen automatisch voor bonus (tot 3,5 % korting)."
    ),
    "level": "account",
    "period": "calendar_year",
    "bonus_enabled": True,
    "bonus_mode": "whole",
    "bonus_period": "year",
    "bonus_max_rate": D("0.035"),
    "points_enabled": True,
    "points_per_euro": D("1"),
    "points_per_order": 0,
    "points_expiry_months": 24,
    "points_confirm_on": "delivered",
    "point_value": D("0.01"),
    "card_scheme": "ean13",
    "card_prefix": "29",
    "tiers": [
        {
            "name": "Gold",
            "rank": 1,
            "threshold": D("12000"),
            "benefits": [
                {
                    "kind": "parking",
                    "description": "Eigen parkeerplaats bij het distributiecentrum",
                },
                {"kind": "account_manager", "description": ""},
                {"kind": "service_desk", "description": ""},
                {"kind": "on_account", "description": ""},
                {"kind": "bonus", "description": "Automatisch in de bonusregeling (tot 3,5 %)"},
            ],
        }
    ],
    "brackets": [
        {"lower_bound": D("12000"), "rate": D("0.01")},
        {"lower_bound": D("20000"), "rate": D("0.02")},
        {"lower_bound": D("30000"), "rate": D("0.03")},
        {"lower_bound": D("40000"), "rate": D("0.035")},
    ],
    "category_rules": [{"category": "jassen", "points_per_euro": D("2")}],
    "rewards": [
        {"name": "Showroomdag voor twee met lunch", "points": 2500},
        {"name": "Visual-merchandisingadvies in de winkel", "points": 10000},
        {"name": "Extra levering op afroep, zonder kosten", "points": 5000},
    ],
}
IDEAS = (
    ("tennis", "Kaartjes voor de finale van het tennistoernooi", 180),
    ("golf", "Golfdag met lunch op de Hoge Dijk", 250),
    ("kunst", "Kunstboek of museumkaart met rondleiding", 75),
    ("wijn", "Wijnpakket van een Franse wijnboer", 60),
    ("zeilen", "Zeildag op het IJsselmeer", 200),
    ("koken", "Kookworkshop bij een sterrenchef", 150),
)
BIJENKORF = "de Bijenkorf"


def _moment(account, subject: str) -> Interaction | None:
    return Interaction.objects.filter(account=account, subject=subject).first()


def _at(day, hour=14):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


def extend(story) -> None:
    sanne, daan = story.users["sanne"], story.users["daan"]
    today = story.today
    bijenkorf = story.accounts[BIJENKORF]
    buyer, store, finance = story.contacts[BIJENKORF][:3]

    definition = dict(GOLD_CARD, starts_on=today.replace(year=today.year - 2, month=1, day=1))
    programme = programme_services.programme_define(actor=sanne, definition=definition)
    for interest, name, cost in IDEAS:
        binding.incentive_idea_save(
            actor=sanne,
            idea=None,
            data={"name": name, "interest": interest, "typical_cost": D(cost)},
        )

    # --- de Bijenkorf: binding on all three levels --------------------------------------
    def done(kind, title, subject=None, **extra):
        interaction = _moment(bijenkorf, subject) if subject else None
        day = (
            timezone.localtime(interaction.occurred_at).date() if interaction else extra.pop("day")
        )
        data = {"kind": kind, "title": title, "status": "done", "done_on": day, **extra}
        if interaction is not None:
            data["interaction"] = interaction
        return binding.binding_activity_create(
            actor=daan, account=bijenkorf, data=data, satisfaction=4
        )

    done(
        "discount",
        "5 % korting bij voorinschrijving voorjaar",
        "Actie aangekondigd: 5 % korting bij voorinschrijving voorjaar",
    )
    done("terms", "Betaaltermijn: 30 dagen na levering", "Vraag over factuur van de laatste order")
    done(
        "account_manager",
        "Vaste accountmanager: Daan Jansen",
        "Kennismaking en collectiepresentatie herfst/winter",
    )
    done(
        "delivery",
        "Beschadigde dozen binnen twee dagen per koerier vervangen",
        "Service: beschadigde dozen vervangen en spoed nageleverd",
    )
    done(
        "event",
        "VIP-dag tennistoernooi",
        "VIP-dag tennistoernooi",
        contact=buyer,
        interest="tennis",
    )
    done(
        "attention",
        "Evaluatie eerste jaar met de salesmanager",
        "Evaluatie eerste jaar met Sanne de Vries",
    )
    done(
        "incentive",
        "Kunstboek als dank voor het eerste traject",
        day=story.days_ago(150),
        contact=buyer,
        interest="kunst",
        cost=D("45.00"),
        notes="Marieke houdt van kunst: een boek over de Amsterdamse School.",
    )
    binding.binding_activity_create(
        actor=daan,
        account=bijenkorf,
        data={
            "kind": "edi",
            "title": "EDI-koppeling voor orders en facturen",
            "status": "planned",
            "planned_on": today + timedelta(days=45),
        },
    )
    for aspect, wish, how, status in (
        (
            "delivery",
            "Levering op dinsdag vóór 10.00 uur in het DC Amsterdam",
            "Vaste route op dinsdagochtend.",
            "met",
        ),
        (
            "timing",
            "Bestelt twee keer per seizoen, via voorinschrijving",
            "5 % korting bij voorinschrijving.",
            "met",
        ),
        (
            "assortment",
            "Wil herenmode van ons merk in het assortiment",
            "Tweede salestraject gepland.",
            "planned",
        ),
        ("ordering", "Orders en facturen via EDI", "", "not_met"),
    ):
        binding.wish_create(
            actor=daan,
            account=bijenkorf,
            data={"aspect": aspect, "wish": wish, "how_we_meet": how, "status": status},
        )
    binding.rapport_judge(
        actor=daan, contact=buyer, rapport=True, note="Gedeelde liefde voor tennis en kunst.",
        judged_on=story.days_ago(120),
    )  # fmt: skip
    binding.rapport_judge(actor=daan, contact=store, rapport=True, judged_on=story.days_ago(60))
    binding.rapport_judge(
        actor=daan, contact=finance, rapport=False, note="Alleen contact per mail.",
        judged_on=story.days_ago(12),
    )  # fmt: skip
    drivers.trust_judge(actor=daan, account=bijenkorf, trust=3, judged_on=story.days_ago(400))
    drivers.trust_judge(
        actor=daan, account=bijenkorf, trust=4, note="Na het eerste jaar: afspraken nagekomen.",
        judged_on=story.days_ago(200),
    )  # fmt: skip
    for name, share, price, quality, service, days in (
        ("Label Amsterdam", 30, 3, 4, 4, 300),
        ("Noorderlicht Brands", 20, 2, 3, 4, 90),
    ):
        drivers.competitor_note_create(
            actor=daan,
            account=bijenkorf,
            data={
                "competitor": name, "share": share, "price": price, "quality": quality,
                "service": service, "noted_on": story.days_ago(days),
            },
        )  # fmt: skip

    # --- other accounts: a fixed account manager for the key accounts, and falls ----------
    for account in story.accounts.values():
        if account.pk == bijenkorf.pk or account.status != "key_account":
            continue
        binding.binding_activity_create(
            actor=story.actor_for(account),
            account=account,
            data={
                "kind": "account_manager",
                "title": "Vaste accountmanager",
                "status": "done",
                "done_on": story.days_ago(400),
            },
            satisfaction=3,
        )
    for name, before, after in (("Delfts Mode Atelier", 4, 1), ("Noorderlicht Mode", 4, 2)):
        account = story.accounts.get(name)
        if account is None:
            continue
        actor = story.actor_for(account)
        drivers.trust_judge(
            actor=actor, account=account, trust=before, judged_on=story.days_ago(200)
        )
        drivers.trust_judge(
            actor=actor, account=account, trust=after, note="Klaagt over levertijden; bestelt minder.",
            judged_on=story.days_ago(10),
        )  # fmt: skip

    # --- events: the tennis final the company sponsors, and last autumn's wine tasting -----
    final = binding.event_create(
        actor=sanne,
        data={
            "name": "Finale tennistoernooi — loge van Studio Noord",
            "starts_at": _at(today + timedelta(days=21)),
            "location": "Sportpark Amstelveen",
            "description": "Studio Noord sponsort het toernooi; in onze loge is plaats voor twaalf relaties.",
            "interest": "tennis",
            "capacity": 12,
            "cost_per_guest": D("180.00"),
            "shared": True,
        },
    )
    invited = binding.invitations_create(actor=daan, event=final, contacts=[buyer])
    binding.invitation_respond(
        actor=daan,
        invitation=invited[0],
        version=invited[0].version,
        status=Invitation.Status.ACCEPTED,
    )
    tasting = binding.event_create(
        actor=daan,
        data={
            "name": "Najaarspresentatie met wijnproeverij",
            "starts_at": _at(story.days_ago(150), 17),
            "location": "Showroom Studio Noord, Amsterdam",
            "interest": "wijn",
            "cost_per_guest": D("45.00"),
            "shared": True,
        },
        mail=False,
    )
    guests = [
        c
        for c in Contact.objects.filter(interests__name="wijn", account__manager=daan)
        .exclude(account=bijenkorf)
        .select_related("account")
        .order_by("pk")[:4]
    ]
    for i, invitation in enumerate(
        binding.invitations_create(actor=daan, event=tasting, contacts=guests, mail=False)
    ):
        answer = Invitation.Status.ATTENDED if i % 3 != 2 else Invitation.Status.NO_SHOW
        binding.invitation_respond(
            actor=daan, invitation=invitation, version=invitation.version, status=answer
        )

    # --- the programme evaluated over time (tiers, bonuses, points, the loyalty trend) -----
    for days in (270, 180, 90):
        evaluate(as_of=story.days_ago(days), actor=sanne)

    # --- campaigns --------------------------------------------------------------------------
    campaign = campaigns.campaign_create(
        actor=daan,
        data={
            "name": "Loyaliteitscampagne de Bijenkorf: voorinschrijving voorjaar",
            "goal": "Gemiddelde orderwaarde +10 % (van € 9.500 naar € 10.450)",
            "goal_metric": "revenue",
            "goal_lift": D("10"),
            "starts_on": story.days_ago(40),
            "ends_on": today + timedelta(days=50),
            "selection": "account",
            "account": bijenkorf,
            "incentive": "bonus_discount",
            "incentive_rate": D("2"),
            "programme": programme,
            "benefits": (
                "2 % extra korting bij voorinschrijving boven € 10.000; gratis "
                "visual-merchandisingadvies in de winkel; een plaats in onze loge bij de "
                "tennisfinale voor de inkoper."
            ),
            "budget": D("750.00"),
            "fixed_cost": D("150.00"),
            "mail_subject": "Voorinschrijving voorjaar: 2 % extra voordeel",
            "mail_text": (
                "Beste {name},\n\nSchrijf vóór eind van de maand in op de voorjaarscollectie "
                "en ontvang 2 % extra korting boven € 10.000, plus gratis advies voor de "
                "presentatie in de winkel.\n\nMet vriendelijke groet,\nDaan Jansen"
            ),
        },
    )
    campaigns.campaign_launch(actor=daan, campaign=campaign, version=campaign.version)
    gold = programme.tiers.get(name="Gold")
    double = campaigns.campaign_create(
        actor=sanne,
        data={
            "name": "Gold Card: dubbele punten op de wintercollectie",
            "goal": "Meer orders van Gold-klanten in de winter",
            "goal_metric": "orders",
            "goal_lift": D("15"),
            "starts_on": story.days_ago(60),
            "ends_on": story.days_ago(5),
            "selection": "tier",
            "tier": gold,
            "programme": programme,
            "incentive": "points_multiplier",
            "incentive_rate": D("2"),
            "benefits": "Dubbele punten op alle orders in de campagneperiode.",
            "budget": D("1500.00"),
            "control_fraction": D("0.5"),
        },
    )
    try:
        campaigns.campaign_launch(actor=sanne, campaign=double, version=double.version)
    except InvalidInput:  # too few Gold accounts for a control group: keep it as a draft
        pass

    evaluate(as_of=today, actor=sanne)

    # --- cards and a redemption -------------------------------------------------------------
    programme_services.card_issue(actor=daan, account=bijenkorf, programme=programme, contact=buyer)
    other = story.accounts.get("Modehuis Verhoef")
    if other is not None:
        card = programme_services.card_issue(
            actor=story.actor_for(other), account=other, programme=programme
        )
        programme_services.card_block(
            actor=story.actor_for(other), card=card, reason="Pas kwijtgeraakt"
        )
        programme_services.card_replace(actor=story.actor_for(other), card=card)
    reward = Reward.objects.get(programme=programme, points=2500)
    programme_services.points_redeem(
        actor=daan, account=bijenkorf, programme=programme, reward=reward, key="demo-showroomdag"
    )

    counts = story.summary.counts
    counts["binding activities"] = bijenkorf.binding_activities.count()
    counts["loyalty events"] = Event.objects.count()
    counts["loyalty campaigns"] = 2
