from django.urls import path

from . import views
from .binding import views as binding
from .campaigns import views as campaigns
from .drivers import views as drivers
from .programme import views as programme

app_name = "loyalty"

urlpatterns = [
    path("", views.index, name="index"),
    path("tiers/", programme.tiers, name="tiers"),
    path("falling/", drivers.falling, name="falling"),
    path("accounts/<int:account_pk>/", binding.account, name="account"),
    path("accounts/<int:account_pk>/drivers/", drivers.account_drivers, name="account_drivers"),
    path(
        "accounts/<int:account_pk>/programme/",
        programme.account_programme,
        name="account_programme",
    ),
    path("accounts/<int:account_pk>/binding/", binding.binding_create, name="binding_create"),
    path("accounts/<int:account_pk>/wishes/", binding.wish_create, name="wish_create"),
    path("accounts/<int:account_pk>/competitors/", drivers.note_create, name="note_create"),
    path("accounts/<int:account_pk>/trust/", drivers.trust_create, name="trust_create"),
    path("accounts/<int:account_pk>/redeem/", programme.redeem_create, name="redeem_create"),
    path("accounts/<int:account_pk>/cards/", programme.card_create, name="card_create"),
    path("binding/<int:pk>/edit/", binding.binding_edit, name="binding_edit"),
    path("binding/<int:pk>/delete/", binding.binding_delete, name="binding_delete"),
    path("wishes/<int:pk>/edit/", binding.wish_edit, name="wish_edit"),
    path("contacts/<int:pk>/rapport/", binding.rapport_create, name="rapport_create"),
    path("cards/<int:pk>/", programme.card, name="card"),
    path("cards/<int:pk>/block/", programme.card_block, name="card_block"),
    path("cards/<int:pk>/replace/", programme.card_replace, name="card_replace"),
    path("events/", binding.events, name="events"),
    path("events/new/", binding.event_create, name="event_create"),
    path("events/<int:pk>/", binding.event, name="event"),
    path("events/<int:pk>/edit/", binding.event_edit, name="event_edit"),
    path("events/<int:pk>/invite/", binding.invitation_create, name="invitation_create"),
    path("invitations/<int:pk>/rsvp/", binding.rsvp, name="rsvp"),
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", campaigns.campaign, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/launch/", campaigns.campaign_launch, name="campaign_launch"),
    path("programmes/", programme.programme_list, name="programmes"),
    path("programmes/edit/", programme.programme_edit, name="programme_edit"),
    path("programmes/tier/edit/", programme.tier_edit, name="tier_edit"),
    path("programmes/bracket/edit/", programme.bracket_edit, name="bracket_edit"),
    path("programmes/rule/edit/", programme.rule_edit, name="rule_edit"),
    path("programmes/reward/edit/", programme.reward_edit, name="reward_edit"),
    path("programmes/delete/", programme.config_delete, name="config_delete"),
    path("settings/edit/", drivers.settings_edit, name="settings_edit"),
    path("settings/idea/edit/", binding.idea_edit, name="idea_edit"),
]
