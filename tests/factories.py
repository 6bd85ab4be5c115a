"""factory_boy factories for users and jobs; avatar and swap factories live beside their tests."""

import factory
from django.contrib.auth import get_user_model

from jobs.models import Job

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    owner = factory.SubFactory(UserFactory)
    kind = Job.Kind.EXPORT
    status = Job.Status.QUEUED
    message = "Waiting for a worker…"
