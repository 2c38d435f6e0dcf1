"""Loyalty pages: the account's binding matrix, drivers and programme; events; campaigns;
the tier overview and the falling list; the programme configuration. Thin: the services
and selectors do the work."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relatiebeheer.common.errors import Conflict, InvalidInput, PermissionRefused, VersionConflict
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Account, Contact
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.relations.services import require_account_writable, require_can_change
from relatiebeheer.users.access import can_change_data, sees_all_accounts
from relatiebeheer.web.views.common import add_service_errors, conflict_message, conflict_rows

from . import binding, campaigns, points, selectors, services
from .barcode import barcode_svg
from .drivers import DRIVERS, scorecard
from .forms import (
    BindingForm,
    BracketForm,
    CampaignGoalForm,
    CampaignIncentiveForm,
    CampaignTargetForm,
    CardForm,
    CompetitorNoteForm,
    EventForm,
    IdeaForm,
    InviteForm,
    KlikForm,
    ProgrammeForm,
    ReasonForm,
    RedeemForm,
    RewardForm,
    RuleForm,
    SettingsForm,
    TierForm,
    TrustForm,
    WishForm,
)
from .models import (
    BindingActivity,
    BonusBracket,
    BonusSettlement,
    Campaign,
    CategoryRule,
    Event,
    IncentiveIdea,
    Invitation,
    LedgerEntry,
    Level,
    LoyaltySettings,
    PointsAccount,
    Programme,
    Reward,
    Tier,
    TierChange,
    TrustJudgement,
)

DRIVER_LABELS = {
    "trust": gettext_lazy("Trust"),
    "satisfaction": gettext_lazy("Satisfaction"),
    "alternatives": gettext_lazy("Quality of the alternatives"),
    "investment": gettext_lazy("Investment in the relationship"),
}


SOURCE_LABELS = {
    "survey": gettext_lazy("surveys"),
    "contact_moment": gettext_lazy("contact moments"),
    "judgement": gettext_lazy("account manager's judgement"),
    "price": gettext_lazy("price"),
    "quality": gettext_lazy("quality"),
    "service": gettext_lazy("service"),
    "binding": gettext_lazy("binding levels with activity"),
    "costs": gettext_lazy("costs against the 12-month profit"),
}


def _parts(combined) -> list[dict]:
    return [
        {
            "label": SOURCE_LABELS.get(part.source, part.source),
            "mean": part.mean,
            "readings": part.readings,
            "share": part.share,
        }
        for part in combined.parts
    ]


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**53 else None


def _form_page(request, *, title, form, back, submit=None, status=200, extra=None):
    context = {"title": title, "form": form, "back": back, "submit": submit or _("Save")}
    context.update(extra or {})
    return render(request, "loyalty/form.html", context, status=status)


# --------------------------------------------------------------------------- overview


@login_required
def index(request):
    actor = request.user
    today = timezone.localdate()
    settings = LoyaltySettings.load()
    since = today - timedelta(days=settings.gap_months * 31)
    customers = (
        Account.objects.visible_to(actor)
        .filter(archived=False)
        .exclude(status=Account.Status.PROSPECT)
    )
    gaps = []
    for level, label in Level.choices:
        recent = BindingActivity.objects.filter(
            account=OuterRef("pk"), level=level, status="done", done_on__gte=since
        )
        qs = customers.filter(~Exists(recent))
        gaps.append(
            {
                "level": level,
                "label": label,
                "count": qs.count(),
                "accounts": list(qs.order_by("name")[:5]),
            }
        )
    overviews = [
        {"programme": p, **selectors.tier_overview(actor=actor, programme=p)}
        for p in selectors.programmes().filter(active=True)
    ]
    context = {
        "overviews": overviews,
        "falling": selectors.falling(actor=actor, limit=10),
        "events": list(selectors.event_list(actor=actor, upcoming=True).order_by("starts_at")[:5]),
        "campaigns": list(selectors.campaign_list(actor=actor)[:8]),
        "gaps": gaps,
        "gap_months": settings.gap_months,
        "today": today,
        "can_edit": can_change_data(actor),
    }
    return render(request, "loyalty/index.html", context)


@login_required
def tiers(request):
    programmes = list(selectors.programmes())
    chosen = next((p for p in programmes if p.pk == _int(request.GET.get("programme"))), None)
    chosen = chosen or next((p for p in programmes if p.active), None)
    overview = selectors.tier_overview(actor=request.user, programme=chosen) if chosen else None
    members = []
    if chosen:
        members = list(selectors.status_list(actor=request.user, programme_id=chosen.pk)[:200])
    return render(
        request,
        "loyalty/tiers.html",
        {"programmes": programmes, "programme": chosen, "overview": overview, "members": members},
    )


@login_required
def falling(request):
    settings = LoyaltySettings.load()
    return render(
        request,
        "loyalty/falling.html",
        {"rows": selectors.falling(actor=request.user, limit=200), "settings": settings},
    )


# --------------------------------------------------------------------------- the account


def _account_context(request, account, tab):
    return {"account": account, "tab": tab, "can_edit": can_change_data(request.user)}


@login_required
def account(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    today = timezone.localdate()
    context = _account_context(request, account, "binding")
    context.update(
        {
            "matrix": binding.binding_matrix(account, today=today),
            "personal": binding.personal_side(account, today=today),
            "wishes": list(account.wishes.order_by("aspect", "id")),
            "behaviour": binding.buying_behaviour(account, today=today),
            "binding_form": BindingForm(
                account=account, initial={"status": "done", "done_on": today}
            ),
            "wish_form": WishForm(),
            "klik_form": KlikForm(),
        }
    )
    return render(request, "loyalty/account.html", context)


@login_required
def account_drivers(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    card = scorecard(account)
    history = selectors.driver_history(account)
    drivers = [
        {
            "key": key,
            "label": DRIVER_LABELS[key],
            "score": card.score(key),
            "parts": _parts(card.drivers[key]),
        }
        for key in DRIVERS
    ]
    context = _account_context(request, account, "drivers")
    context.update(
        {
            "card": card,
            "drivers": drivers,
            "index_parts": card.index.parts,
            "radar": {
                "labels": [str(DRIVER_LABELS[k]) for k in DRIVERS],
                "values": [
                    float(card.score(k)) if card.score(k) is not None else None for k in DRIVERS
                ],
            },
            "trend": {
                "labels": [row.as_of.isoformat() for row in history],
                "datasets": [
                    {
                        "label": str(_("Loyalty index")),
                        "values": [
                            float(r.index) if r.index is not None else None for r in history
                        ],
                    },
                    *[
                        {
                            "label": str(DRIVER_LABELS[k]),
                            "values": [
                                float(getattr(r, k)) if getattr(r, k) is not None else None
                                for r in history
                            ],
                        }
                        for k in DRIVERS
                    ],
                ],
            },
            "history": history[-12:][::-1],
            "notes": list(account.competitor_notes.order_by("-noted_on", "-id")[:20]),
            "judgements": list(
                TrustJudgement.objects.filter(account=account)
                .select_related("judged_by")
                .order_by("-judged_on", "-id")[:10]
            ),
            "note_form": CompetitorNoteForm(initial={"noted_on": timezone.localdate()}),
            "trust_form": TrustForm(),
            "weights": LoyaltySettings.load().weights,
        }
    )
    return render(request, "loyalty/drivers.html", context)


@login_required
def account_programme(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    views = selectors.account_programmes(account)
    ledger = list(
        LedgerEntry.objects.filter(points_account__account=account)
        .select_related("points_account__programme", "reward")
        .order_by("-id")[:50]
    )
    context = _account_context(request, account, "programme")
    context.update(
        {
            "views": views,
            "ledger": ledger,
            "changes": list(
                TierChange.objects.filter(account=account).select_related(
                    "from_tier", "to_tier", "programme"
                )[:20]
            ),
            "settlements": list(
                BonusSettlement.objects.filter(account=account).select_related("programme")[:20]
            ),
            "redeem_form": RedeemForm(initial={"key": uuid.uuid4().hex}),
            "card_form": CardForm(account=account),
        }
    )
    return render(request, "loyalty/programme.html", context)


# --------------------------------------------------------------------------- binding


@login_required
def binding_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    if request.method == "POST":
        require_account_writable(request.user, account)
    form = BindingForm(
        request.POST or None,
        account=account,
        initial={"status": "done", "done_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        data["interest"] = services._interest(form.cleaned_data.get("interest_name"))
        try:
            services.binding_activity_create(
                actor=request.user,
                account=account,
                data=data,
                channel=form.cleaned_data.get("channel") or None,
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Binding activity saved."))
            return redirect("loyalty:account", account_pk=account.pk)
    return _form_page(
        request,
        title=_("Binding activity for %(account)s") % {"account": account.name},
        form=form,
        back=reverse("loyalty:account", args=[account.pk]),
        status=422 if form.is_bound else 200,
    )


@login_required
def binding_edit(request, pk: int):
    activity = selectors.binding_get(actor=request.user, pk=pk)
    if request.method == "POST":
        require_account_writable(request.user, activity.account)
    form = BindingForm(
        request.POST or None,
        instance=BindingActivity.objects.get(pk=activity.pk),
        account=activity.account,
    )
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        data["interest"] = services._interest(form.cleaned_data.get("interest_name"))
        try:
            services.binding_activity_update(
                actor=request.user,
                activity=activity,
                version=_int(request.POST.get("version")) or 0,
                data=data,
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("loyalty:account", account_pk=activity.account_id)
    return _form_page(
        request,
        title=_("Binding activity"),
        form=form,
        back=reverse("loyalty:account", args=[activity.account_id]),
        extra={
            "version": activity.version,
            "delete_url": reverse("loyalty:binding_delete", args=[activity.pk]),
        },
    )


@login_required
@require_POST
def binding_delete(request, pk: int):
    activity = selectors.binding_get(actor=request.user, pk=pk)
    try:
        services.binding_activity_delete(
            actor=request.user, activity=activity, version=_int(request.POST.get("version"))
        )
    except VersionConflict:
        messages.error(
            request,
            _(
                "Someone else changed this binding activity after you opened it; nothing was "
                "removed. Check it as it is now and try again."
            ),
        )
        return redirect("loyalty:binding_edit", pk=activity.pk)
    messages.success(request, _("Binding activity removed."))
    return redirect("loyalty:account", account_pk=activity.account_id)


@login_required
def wish_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    if request.method == "POST":
        require_account_writable(request.user, account)
    form = WishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.wish_create(actor=request.user, account=account, data=form.changes())
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Wish saved."))
            return redirect("loyalty:account", account_pk=account.pk)
    return _form_page(
        request,
        title=_("Wish or buying behaviour of %(account)s") % {"account": account.name},
        form=form,
        back=reverse("loyalty:account", args=[account.pk]),
        status=422 if form.is_bound else 200,
    )


@login_required
def wish_edit(request, pk: int):
    wish = selectors.wish_get(actor=request.user, pk=pk)
    if request.method == "POST":
        require_account_writable(request.user, wish.account)
    form = WishForm(request.POST or None, instance=type(wish).objects.get(pk=wish.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.wish_update(
                actor=request.user,
                wish=wish,
                version=_int(request.POST.get("version")) or 0,
                data=form.changes(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("loyalty:account", account_pk=wish.account_id)
    return _form_page(
        request,
        title=_("Wish"),
        form=form,
        back=reverse("loyalty:account", args=[wish.account_id]),
        extra={"version": wish.version},
    )


@login_required
@require_POST
def klik_create(request, pk: int):
    contact = relations.contact_get(actor=request.user, pk=pk)
    require_account_writable(request.user, contact.account)
    form = KlikForm(request.POST)
    if form.is_valid():
        services.klik_judge(
            actor=request.user,
            contact=contact,
            klik=form.cleaned_data["klik"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("Judgement saved."))
    else:
        messages.error(request, _("Answer yes or no."))
    return redirect("loyalty:account", account_pk=contact.account_id)


# --------------------------------------------------------------------------- drivers' inputs


@login_required
def note_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    if request.method == "POST":
        require_account_writable(request.user, account)
    form = CompetitorNoteForm(request.POST or None, initial={"noted_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.competitor_note_create(
                actor=request.user, account=account, data=form.changes()
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Competitor note saved."))
            return redirect("loyalty:account_drivers", account_pk=account.pk)
    return _form_page(
        request,
        title=_("Competitor of %(account)s") % {"account": account.name},
        form=form,
        back=reverse("loyalty:account_drivers", args=[account.pk]),
        status=422 if form.is_bound else 200,
    )


@login_required
@require_POST
def trust_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    require_account_writable(request.user, account)
    form = TrustForm(request.POST)
    if form.is_valid():
        services.trust_judge(
            actor=request.user,
            account=account,
            trust=form.cleaned_data["trust"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("Judgement saved."))
    else:
        messages.error(request, _("Choose how much trust the account has in us."))
    return redirect("loyalty:account_drivers", account_pk=account.pk)


# --------------------------------------------------------------------------- points and cards


@login_required
@require_POST
def redeem_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    require_account_writable(request.user, account)
    form = RedeemForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        reward = data.get("reward")
        if reward is not None and reward.programme_id != data["programme"].pk:
            messages.error(request, _("Choose a reward of this programme."))
        else:
            try:
                points.points_redeem(
                    actor=request.user,
                    account=account,
                    programme=data["programme"],
                    reward=reward,
                    points=None if reward else data.get("points"),
                    key=data.get("key") or None,
                )
            except (Conflict, InvalidInput) as exc:
                detail = (
                    exc.detail
                    if isinstance(exc, Conflict)
                    else "; ".join(m for ms in exc.errors.values() for m in ms)
                )
                messages.error(request, str(detail))
            else:
                messages.success(request, _("Points redeemed."))
    else:
        messages.error(
            request, "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
    return redirect("loyalty:account_programme", account_pk=account.pk)


@login_required
@require_POST
def card_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    require_account_writable(request.user, account)
    form = CardForm(request.POST, account=account)
    if form.is_valid():
        card = services.card_issue(
            actor=request.user,
            account=account,
            programme=form.cleaned_data["programme"],
            contact=form.cleaned_data["contact"],
        )
        messages.success(request, _("Card %(number)s issued.") % {"number": card.number})
        return redirect("loyalty:card", pk=card.pk)
    messages.error(request, _("Choose a programme."))
    return redirect("loyalty:account_programme", account_pk=account.pk)


@login_required
def card(request, pk: int):
    card = selectors.card_get(actor=request.user, pk=pk)
    return render(
        request,
        "loyalty/card.html",
        {
            "card": card,
            "account": card.account,
            "barcode": barcode_svg(
                card.number,
                scheme=card.programme.card_scheme,
                label=_("Card number %(number)s") % {"number": card.number},
            ),
            "reason_form": ReasonForm(),
            "can_edit": can_change_data(request.user),
            "replaced_by": type(card).objects.filter(replaces=card).first(),
        },
    )


@login_required
@require_POST
def card_block(request, pk: int):
    card = selectors.card_get(actor=request.user, pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.card_block(actor=request.user, card=card, reason=reason)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, _("The card is blocked."))
    return redirect("loyalty:card", pk=card.pk)


@login_required
@require_POST
def card_replace(request, pk: int):
    card = selectors.card_get(actor=request.user, pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        new = services.card_replace(actor=request.user, card=card, reason=reason)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect("loyalty:card", pk=card.pk)
    messages.success(
        request, _("Card replaced: the new number is %(number)s.") % {"number": new.number}
    )
    return redirect("loyalty:card", pk=new.pk)


# --------------------------------------------------------------------------- events


@login_required
def events(request):
    return render(
        request,
        "loyalty/events.html",
        {
            "events": list(
                selectors.event_list(actor=request.user).annotate(invited=Count("invitations"))[
                    :200
                ]
            ),
            "now": timezone.now(),
            "can_edit": can_change_data(request.user),
        },
    )


@login_required
def event(request, pk: int):
    event = selectors.event_get(actor=request.user, pk=pk)
    invitations = list(selectors.invitations_for(actor=request.user, event=event))
    invite_form = None
    if can_change_data(request.user):
        invite_form = InviteForm(contacts=_invitable(request, event))
    labels = dict(Invitation.Status.choices)
    counts: dict[str, int] = {}
    for invitation in invitations:
        label = str(labels[invitation.status])
        counts[label] = counts.get(label, 0) + 1
    return render(
        request,
        "loyalty/event.html",
        {
            "event": event,
            "invitations": invitations,
            "counts": counts,
            "invite_form": invite_form,
            "q": request.GET.get("q", "")[:100],
            "past": event.starts_at <= timezone.now(),
            "can_edit": can_change_data(request.user),
            "can_change_event": can_change_data(request.user)
            and (event.organiser_id == request.user.pk or sees_all_accounts(request.user)),
        },
    )


def _invitable(request, event):
    """Contacts the user may invite: by default those sharing the event's interest."""
    contacts = (
        Contact.objects.visible_to(request.user)
        .select_related("account")
        .filter(account__archived=False)
    )
    q = request.GET.get("q", "").strip()[:100]
    if q:
        contacts = contacts.filter(
            Q(last_name__icontains=q) | Q(first_name__icontains=q) | Q(account__name__icontains=q)
        )
    elif event.interest_id:
        contacts = contacts.filter(interests=event.interest)
    already = event.invitations.values("contact_id")
    return contacts.exclude(pk__in=already).order_by("account__name", "last_name")[:100]


@login_required
def event_create(request):
    if request.method == "POST":
        require_can_change(request.user)
    form = EventForm(request.POST or None, initial={"shared": True})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.event_create(actor=request.user, data=form.changes())
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Event created. Invite your contacts below."))
            return redirect("loyalty:event", pk=created.pk)
    return _form_page(
        request,
        title=_("New event"),
        form=form,
        back=reverse("loyalty:events"),
        status=422 if form.is_bound else 200,
    )


@login_required
def event_edit(request, pk: int):
    event = selectors.event_get(actor=request.user, pk=pk)
    if request.method == "POST":
        services._require_event_editable(request.user, event)
    form = EventForm(request.POST or None, instance=Event.objects.get(pk=event.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.event_update(
                actor=request.user,
                event=event,
                version=_int(request.POST.get("version")) or 0,
                data=form.changes(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("loyalty:event", pk=event.pk)
    return _form_page(
        request,
        title=event.name,
        form=form,
        back=reverse("loyalty:event", args=[event.pk]),
        extra={"version": event.version},
    )


@login_required
@require_POST
def invitation_create(request, pk: int):
    event = selectors.event_get(actor=request.user, pk=pk)
    require_can_change(request.user)
    form = InviteForm(request.POST, contacts=Contact.objects.visible_to(request.user))
    if form.is_valid():
        try:
            made = services.invitations_create(
                actor=request.user,
                event=event,
                contacts=form.cleaned_data["contacts"],
                mail=form.cleaned_data["mail"],
            )
        except InvalidInput as exc:
            messages.error(request, "; ".join(m for ms in exc.errors.values() for m in ms))
        else:
            messages.success(request, _("%(count)s invited.") % {"count": len(made)})
    else:
        messages.error(request, _("Choose the contacts to invite."))
    return redirect("loyalty:event", pk=event.pk)


@login_required
@require_POST
def rsvp(request, pk: int):
    invitation = selectors.invitation_get(actor=request.user, pk=pk)
    require_account_writable(request.user, invitation.account)
    status = request.POST.get("status", "")
    try:
        services.invitation_respond(
            actor=request.user,
            invitation=invitation,
            version=_int(request.POST.get("version")) or 0,
            status=status,
        )
    except InvalidInput as exc:
        messages.error(request, "; ".join(m for ms in exc.errors.values() for m in ms))
    except VersionConflict as exc:
        conflict_message(request, exc)
    else:
        messages.success(request, _("Answer saved."))
    return redirect("loyalty:event", pk=invitation.event_id)


# --------------------------------------------------------------------------- campaigns


@login_required
def campaign_list(request):
    today = timezone.localdate()
    rows = list(selectors.campaign_list(actor=request.user)[:200])
    return render(
        request,
        "loyalty/campaigns.html",
        {
            "campaigns": [(c, c.phase(today)) for c in rows],
            "can_edit": can_change_data(request.user),
        },
    )


@login_required
def campaign_create(request):
    if request.method == "POST":
        require_can_change(request.user)
    account_id = _int(request.GET.get("account"))
    initial = {
        "goal_lift": 10,
        "starts_on": timezone.localdate() + timedelta(days=7),
        "ends_on": timezone.localdate() + timedelta(days=97),
    }
    form = CampaignGoalForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        data["benefits"] = ""
        account = None
        if account_id:
            account = relations.account_get(actor=request.user, pk=account_id)
            data.update({"selection": Campaign.Selection.ACCOUNT, "account": account})
        else:
            data.update(
                {"selection": Campaign.Selection.SEGMENT, "segments": ["at_risk", "need_attention"]}
            )
        try:
            created = campaigns.campaign_create(actor=request.user, data=data)
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            return redirect(f"{reverse('loyalty:campaign_edit', args=[created.pk])}?step=target")
    return render(
        request,
        "loyalty/campaign_wizard.html",
        {"form": form, "step": "goal", "campaign": None, "steps": _steps("goal")},
        status=422 if form.is_bound else 200,
    )


def _steps(current):
    names = [
        ("goal", _("Goal and duration")),
        ("target", _("Target selection")),
        ("incentive", _("Incentive and benefits")),
        ("review", _("Review and launch")),
    ]
    return [{"key": k, "label": label, "current": k == current} for k, label in names]


@login_required
def campaign_edit(request, pk: int):
    campaign = selectors.campaign_get(actor=request.user, pk=pk)
    step = request.GET.get("step") or request.POST.get("step") or "goal"
    if step not in {"goal", "target", "incentive", "review"}:
        raise Http404
    if request.method == "POST":
        campaigns._require_editable(request.user, campaign)
    if campaign.status != Campaign.Status.DRAFT:
        messages.info(request, _("A launched campaign cannot be changed."))
        return redirect("loyalty:campaign", pk=campaign.pk)
    forms = {
        "goal": CampaignGoalForm,
        "target": CampaignTargetForm,
        "incentive": CampaignIncentiveForm,
    }
    following = {"goal": "target", "target": "incentive", "incentive": "review"}
    form = None
    if step in forms:
        kwargs = {"actor": request.user} if step == "target" else {}
        form = forms[step](
            request.POST or None, instance=Campaign.objects.get(pk=campaign.pk), **kwargs
        )
        if request.method == "POST" and form.is_valid():
            try:
                campaigns.campaign_update(
                    actor=request.user,
                    campaign=campaign,
                    version=_int(request.POST.get("version")) or 0,
                    data=form.changes(),
                )
            except InvalidInput as exc:
                add_service_errors(form, exc)
            except VersionConflict as exc:
                conflict_message(request, exc)
            else:
                return redirect(
                    f"{reverse('loyalty:campaign_edit', args=[campaign.pk])}?step={following[step]}"
                )
    preview = None
    if step == "review":
        ids = list(
            campaigns.target_accounts(actor=request.user, campaign=campaign).values_list(
                "pk", flat=True
            )[:100000]
        )
        control = (
            0
            if campaign.single_account
            else int(campaign.control_fraction * len(ids) + Decimal("0.5"))
        )

        preview = {
            "accounts": len(ids),
            "control": control,
            "target": len(ids) - control,
            "mailable": contacts_with_consent(
                Contact.objects.filter(account_id__in=ids[:5000]).exclude(email=""), "campaigns"
            ).count(),
        }
    return render(
        request,
        "loyalty/campaign_wizard.html",
        {
            "form": form,
            "step": step,
            "campaign": campaign,
            "steps": _steps(step),
            "preview": preview,
        },
        status=422 if form is not None and form.is_bound else 200,
    )


@login_required
@require_POST
def campaign_launch(request, pk: int):
    campaign = selectors.campaign_get(actor=request.user, pk=pk)
    try:
        campaigns.campaign_launch(
            actor=request.user, campaign=campaign, version=_int(request.POST.get("version")) or 0
        )
    except InvalidInput as exc:
        messages.error(request, "; ".join(m for ms in exc.errors.values() for m in ms))
        return redirect(f"{reverse('loyalty:campaign_edit', args=[campaign.pk])}?step=review")
    except VersionConflict as exc:
        conflict_message(request, exc)
        return redirect(f"{reverse('loyalty:campaign_edit', args=[campaign.pk])}?step=review")
    messages.success(request, _("The campaign is launched."))
    return redirect("loyalty:campaign", pk=campaign.pk)


@login_required
def campaign(request, pk: int):
    campaign = selectors.campaign_get(actor=request.user, pk=pk)
    result = campaigns.campaign_result(campaign)
    return render(
        request,
        "loyalty/campaign.html",
        {
            "campaign": campaign,
            "result": result,
            "can_edit": can_change_data(request.user),
            "members": campaign.members.count(),
        },
    )


# --------------------------------------------------------------------------- configuration


def _config_gate(request):
    """Readers are refused; account managers are sent back with a message."""
    if not can_change_data(request.user):
        raise PermissionRefused(_("Your role may look but not change anything."))
    if not services.can_configure(request.user):
        messages.error(
            request, _("Only a sales manager or an administrator configures the loyalty programme.")
        )
        return redirect("loyalty:programmes")
    return None


@login_required
def programme_list(request):
    return render(
        request,
        "loyalty/programmes.html",
        {
            "programmes": list(selectors.programmes()),
            "can_configure": services.can_configure(request.user) and can_change_data(request.user),
            "settings": LoyaltySettings.load(),
            "ideas": list(IncentiveIdea.objects.select_related("interest")),
            "points_accounts": PointsAccount.objects.count(),
        },
    )


def _programme(request, name="programme") -> Programme:
    programme = Programme.objects.filter(
        pk=_int(request.GET.get(name) or request.POST.get(name))
    ).first()
    if programme is None:
        raise Http404
    return programme


@login_required
def programme_edit(request):
    refused = _config_gate(request)
    if refused:
        return refused
    programme = Programme.objects.filter(pk=_int(request.GET.get("id"))).first()
    form = ProgrammeForm(request.POST or None, instance=programme)
    theirs = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.programme_save(
                actor=request.user,
                programme=programme,
                data=form.changes(),
                version=_int(request.POST.get("version")),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
            theirs = conflict_rows(form, exc.current)
            programme.version = exc.current.version  # the next save is based on theirs
        else:
            messages.success(request, _("Programme saved."))
            return redirect(f"{reverse('loyalty:programmes')}#programme-{saved.pk}")
    return _form_page(
        request,
        title=programme.name if programme else _("New loyalty programme"),
        form=form,
        back=reverse("loyalty:programmes"),
        extra={"version": programme.version if programme else None, "theirs": theirs},
    )


def _config_page(request, *, model, form_class, save, title):
    refused = _config_gate(request)
    if refused:
        return refused
    programme = _programme(request)
    obj = model.objects.filter(pk=_int(request.GET.get("id")), programme=programme).first()
    form = form_class(request.POST or None, instance=obj)
    # The programme's version when the editor opened the form guards all its parts.
    seen_version = _int(request.POST.get("programme_version")) or programme.version
    theirs = None
    if request.method == "POST" and form.is_valid():
        try:
            save(programme, obj, form, seen_version)
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
            theirs = conflict_rows(form, exc.current)
            seen_version = Programme.objects.get(pk=programme.pk).version
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{reverse('loyalty:programmes')}#programme-{programme.pk}")
    return _form_page(
        request,
        title=f"{programme.name}: {title}",
        form=form,
        back=reverse("loyalty:programmes"),
        extra={
            "hidden": {"programme": programme.pk, "programme_version": seen_version},
            "theirs": theirs,
        },
    )


@login_required
def tier_edit(request):
    return _config_page(
        request,
        model=Tier,
        form_class=TierForm,
        title=_("tier"),
        save=lambda p, obj, form, seen: services.tier_save(
            actor=request.user,
            programme=p,
            tier=obj,
            data=form.changes(),
            benefits=form.benefits(),
            programme_version=seen,
        ),
    )


@login_required
def bracket_edit(request):
    return _config_page(
        request,
        model=BonusBracket,
        form_class=BracketForm,
        title=_("bonus bracket"),
        save=lambda p, obj, form, seen: services.bracket_save(
            actor=request.user,
            programme=p,
            bracket=obj,
            data=form.changes(),
            programme_version=seen,
        ),
    )


@login_required
def rule_edit(request):
    return _config_page(
        request,
        model=CategoryRule,
        form_class=RuleForm,
        title=_("earn rule"),
        save=lambda p, obj, form, seen: services.category_rule_save(
            actor=request.user,
            programme=p,
            rule=obj,
            data=form.changes(),
            programme_version=seen,
        ),
    )


@login_required
def reward_edit(request):
    return _config_page(
        request,
        model=Reward,
        form_class=RewardForm,
        title=_("reward"),
        save=lambda p, obj, form, seen: services.reward_save(
            actor=request.user,
            programme=p,
            reward=obj,
            data=form.changes(),
            programme_version=seen,
        ),
    )


@login_required
@require_POST
def config_delete(request):
    refused = _config_gate(request)
    if refused:
        return refused
    models = {"tier": Tier, "bracket": BonusBracket, "rule": CategoryRule, "reward": Reward}
    model = models.get(request.POST.get("kind", ""))
    obj = model.objects.filter(pk=_int(request.POST.get("id"))).first() if model else None
    if obj is None:
        raise Http404
    try:
        services.config_delete(
            actor=request.user,
            obj=obj,
            programme_version=_int(request.POST.get("programme_version")),
        )
    except VersionConflict:
        messages.error(
            request,
            _(
                "Someone else changed this programme after you opened the page; nothing was "
                "removed. Check the programme as it is now and try again."
            ),
        )
        return redirect("loyalty:programmes")
    messages.success(request, _("Removed."))
    return redirect("loyalty:programmes")


@login_required
def settings_edit(request):
    refused = _config_gate(request)
    if refused:
        return refused
    settings = LoyaltySettings.load()
    form = SettingsForm(request.POST or None, instance=settings)
    seen_version = _int(request.POST.get("version")) or settings.version
    theirs = None
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(actor=request.user, data=form.changes(), version=seen_version)
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
            theirs = conflict_rows(form, exc.current)
            seen_version = exc.current.version
        else:
            messages.success(request, _("Settings saved."))
            return redirect("loyalty:programmes")
    return _form_page(
        request,
        title=_("Loyalty index and signals"),
        form=form,
        back=reverse("loyalty:programmes"),
        extra={"version": seen_version, "theirs": theirs},
    )


@login_required
def idea_edit(request):
    refused = _config_gate(request)
    if refused:
        return refused
    idea = IncentiveIdea.objects.filter(pk=_int(request.GET.get("id"))).first()
    form = IdeaForm(request.POST or None, instance=idea)
    if request.method == "POST" and form.is_valid():
        try:
            services.incentive_idea_save(actor=request.user, idea=idea, data=form.changes())
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("loyalty:programmes")
    return _form_page(
        request, title=_("Incentive idea"), form=form, back=reverse("loyalty:programmes")
    )
