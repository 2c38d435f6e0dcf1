"""Binding pages: the account's binding matrix with its personal and business side,
activities, wishes, rapport judgements, events and invitations, incentive ideas."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relatiebeheer.common.errors import InvalidInput, VersionConflict
from relatiebeheer.loyalty.pages import account_context, config_gate, form_page, int_param
from relatiebeheer.relations import selectors as relations
from relatiebeheer.relations.models import Contact
from relatiebeheer.relations.rules import require_account_writable, require_can_change
from relatiebeheer.users.access import can_change_data, sees_all_accounts
from relatiebeheer.web.views.common import add_service_errors, conflict_message

from . import matrix, rules, selectors, services
from .forms import BindingForm, EventForm, IdeaForm, InviteForm, RapportForm, WishForm
from .models import BindingActivity, Event, IncentiveIdea, Invitation


@login_required
def account(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    today = timezone.localdate()
    context = account_context(request, account, "binding")
    context.update(
        {
            "matrix": matrix.binding_matrix(account, today=today),
            "personal": selectors.personal_side(account, today=today),
            "wishes": list(account.wishes.order_by("aspect", "id")),
            "behaviour": selectors.buying_behaviour(account, today=today),
            "binding_form": BindingForm(
                account=account, initial={"status": BindingActivity.Status.DONE, "done_on": today}
            ),
            "wish_form": WishForm(),
            "rapport_form": RapportForm(),
        }
    )
    return render(request, "loyalty/account.html", context)


@login_required
def binding_create(request, account_pk: int):
    account = relations.account_get(actor=request.user, pk=account_pk)
    if request.method == "POST":
        require_account_writable(request.user, account)
    form = BindingForm(
        request.POST or None,
        account=account,
        initial={"status": BindingActivity.Status.DONE, "done_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        data["interest"] = form.cleaned_data.get("interest_name") or None
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
    return form_page(
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
        data["interest"] = form.cleaned_data.get("interest_name") or None
        try:
            services.binding_activity_update(
                actor=request.user,
                activity=activity,
                version=int_param(request.POST.get("version")) or 0,
                data=data,
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("loyalty:account", account_pk=activity.account_id)
    return form_page(
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
            actor=request.user, activity=activity, version=int_param(request.POST.get("version"))
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
    return form_page(
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
                version=int_param(request.POST.get("version")) or 0,
                data=form.changes(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("loyalty:account", account_pk=wish.account_id)
    return form_page(
        request,
        title=_("Wish"),
        form=form,
        back=reverse("loyalty:account", args=[wish.account_id]),
        extra={"version": wish.version},
    )


@login_required
@require_POST
def rapport_create(request, pk: int):
    contact = relations.contact_get(actor=request.user, pk=pk)
    require_account_writable(request.user, contact.account)
    form = RapportForm(request.POST)
    if form.is_valid():
        services.rapport_judge(
            actor=request.user,
            contact=contact,
            rapport=form.cleaned_data["rapport"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("Judgement saved."))
    else:
        messages.error(request, _("Answer yes or no."))
    return redirect("loyalty:account", account_pk=contact.account_id)


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
    return form_page(
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
        rules.require_event_editable(request.user, event)
    form = EventForm(request.POST or None, instance=Event.objects.get(pk=event.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.event_update(
                actor=request.user,
                event=event,
                version=int_param(request.POST.get("version")) or 0,
                data=form.changes(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except VersionConflict as exc:
            conflict_message(request, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("loyalty:event", pk=event.pk)
    return form_page(
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
            version=int_param(request.POST.get("version")) or 0,
            status=status,
        )
    except InvalidInput as exc:
        messages.error(request, "; ".join(m for ms in exc.errors.values() for m in ms))
    except VersionConflict as exc:
        conflict_message(request, exc)
    else:
        messages.success(request, _("Answer saved."))
    return redirect("loyalty:event", pk=invitation.event_id)


@login_required
def idea_edit(request):
    refused = config_gate(request)
    if refused:
        return refused
    idea = IncentiveIdea.objects.filter(pk=int_param(request.GET.get("id"))).first()
    form = IdeaForm(request.POST or None, instance=idea)
    if request.method == "POST" and form.is_valid():
        try:
            services.incentive_idea_save(actor=request.user, idea=idea, data=form.changes())
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("loyalty:programmes")
    return form_page(
        request, title=_("Incentive idea"), form=form, back=reverse("loyalty:programmes")
    )
