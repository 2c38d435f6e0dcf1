"""Factories for the domain models (factory_boy)."""

from datetime import date
from decimal import Decimal

import factory

from relatiebeheer.relations.models import Account, Contact, Interaction, Task
from relatiebeheer.sales.models import CostEntry, Order
from relatiebeheer.users.models import Role, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="nl_NL")
    last_name = factory.Faker("last_name", locale="nl_NL")
    role = Role.ACCOUNT_MANAGER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Winkel {n} B.V.")
    city = "Amsterdam"
    status = Account.Status.CUSTOMER
    manager = factory.SubFactory(UserFactory)

    @factory.post_generation
    def _search(obj, create, extracted, **kwargs):
        """As the services do: the search column and tokens follow the fields."""
        if create:
            from relatiebeheer.relations.search import refresh_search_tokens

            obj.refresh_search_text()
            type(obj).objects.filter(pk=obj.pk).update(search_text=obj.search_text)
            refresh_search_tokens([obj.pk])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Faker("first_name", locale="nl_NL")
    last_name = factory.Faker("last_name", locale="nl_NL")
    email = factory.Sequence(lambda n: f"contact{n}@example.nl")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    account = factory.SubFactory(AccountFactory)
    channel = Interaction.Channel.PHONE
    kind = Interaction.Kind.QUESTION
    subject = factory.Sequence(lambda n: f"Gesprek {n}")


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Terugbellen {n}")
    assignee = factory.LazyAttribute(lambda o: o.account.manager)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    account = factory.SubFactory(AccountFactory)
    date = date(2026, 3, 1)
    status = Order.Status.PAID
    revenue = Decimal("1000.00")
    cost_of_goods = Decimal("700.00")


class CostEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostEntry

    account = factory.SubFactory(AccountFactory)
    date = date(2026, 3, 1)
    category = CostEntry.Category.SERVICE
    amount = Decimal("50.00")
