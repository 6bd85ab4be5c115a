"""Writes to accounts: create a user, delete a user with every row and file of theirs."""

from __future__ import annotations

import logging

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import models, transaction

from safeface.files import delete_tree

log = logging.getLogger(__name__)


def user_create(*, username: str, password: str, email: str = ""):
    user_model = get_user_model()
    return user_model.objects.create_user(username=username, email=email, password=password)


def user_owned_rows(*, user) -> list[tuple[type[models.Model], models.QuerySet]]:
    """Every model with a foreign key to the user model, with the rows that point at ``user``."""
    user_model = get_user_model()
    owned = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.related_model is user_model:
                owned.append((model, model._default_manager.filter(**{field.name: user})))
    return owned


def user_file_names(*, user) -> set[str]:
    """Names in storage of every file referenced by a row that belongs to ``user``."""
    names: set[str] = set()
    for model, rows in user_owned_rows(user=user):
        file_fields = [
            f.name for f in model._meta.concrete_fields if isinstance(f, models.FileField)
        ]
        if not file_fields:
            continue
        for values in rows.values_list(*file_fields):
            names.update(name for name in values if name)
    return names


def user_delete(*, user) -> None:
    """Delete the user, every row of theirs (cascade) and, once committed, every file of theirs.

    Files go after the commit so a failed delete never leaves rows pointing at missing files.
    Besides the files rows name, the user's folders (``users/<id>/``, ``exports/<id>/``) go too,
    which catches files a half-finished job wrote but never recorded.
    """
    user_id = user.pk
    names = user_file_names(user=user)

    def delete_files() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                log.warning("could not delete %s of deleted user %s", name, user_id)
        delete_tree(f"users/{user_id}")
        delete_tree(f"exports/{user_id}")

    with transaction.atomic():
        user.delete()
        transaction.on_commit(delete_files)
