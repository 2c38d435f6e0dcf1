"""Campaign pages: the list, the wizard (goal, target, incentive, review and launch)
and the result."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.loyalty.pages import int_param
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Contact
from relatiebeheer.relations.rules import require_can_change
from relatiebeheer.relations.selectors import contacts_with_consent
from relatiebeheer.users.access import can_change_data
from relatiebeheer.web.views.common import add_service_errors, conflict_message

from . import results, rules, selectors, services
from .forms import CampaignGoalForm, CampaignIncentiveForm, CampaignTargetForm
from .models import Campaign


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
    account_id = int_param(request.GET.get("account"))
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
            created = services.campaign_create(actor=request.user, data=data)
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
        rules.require_editable(request.user, campaign)
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
                services.campaign_update(
                    actor=request.user,
                    campaign=campaign,
                    version=int_param(request.POST.get("version")) or 0,
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
            selectors.target_accounts(actor=request.user, campaign=campaign).values_list(
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
        services.campaign_launch(
            actor=request.user,
            campaign=campaign,
            version=int_param(request.POST.get("version")) or 0,
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
    result = results.campaign_result(campaign, actor=request.user)
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
