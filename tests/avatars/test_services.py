"""Avatar services: the uniform surprise draw, the per-user limit, saving a candidate as an
avatar (files copied), deleting, and candidate cleanup."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from avatars import services
from avatars.models import Avatar, Candidate, Generation
from jobs.models import Job
from tests.avatars.factories import AvatarFactory, CandidateFactory, stored_bytes
from tests.factories import UserFactory
from worker.attributes import FIELDS, InvalidAttributes, blank

pytestmark = pytest.mark.django_db


def test_surprise_draws_every_field_uniformly():
    draws = 6000
    rng = random.Random(20260101)
    counts = {field.name: Counter() for field in FIELDS}
    for _ in range(draws):
        for name, value in services.attributes_surprise(rng=rng).items():
            counts[name][value] += 1
    for field in FIELDS:
        expected = draws / len(field.values)
        assert set(counts[field.name]) == set(field.values), field.name  # never "any"
        for value in field.values:
            # Six standard deviations or less from the uniform share, for every choice.
            assert abs(counts[field.name][value] - expected) < 0.25 * expected, (field.name, value)


def test_surprise_uses_fresh_randomness_without_a_seed():
    drawn = {tuple(services.attributes_surprise().values()) for _ in range(20)}
    assert len(drawn) > 1


def test_generation_refuses_unknown_attributes_and_bad_counts(flat_engine):
    user = UserFactory()
    with pytest.raises(InvalidAttributes):
        services.generation_create(user=user, attributes={"skin_tone": "0"})
    with pytest.raises(InvalidAttributes):
        services.generation_create(user=user, attributes={"eye_shape": "round"})
    with pytest.raises(services.GenerationRefused):
        services.generation_create(user=user, attributes={}, count=50)
    assert not Job.objects.exists()


def test_generation_refused_at_the_avatar_limit(settings, flat_engine):
    settings.SAFEFACE_MAX_AVATARS = 2
    user = UserFactory()
    AvatarFactory.create_batch(2, owner=user)
    with pytest.raises(services.AvatarLimitReached, match="2 avatars"):
        services.generation_create(user=user, attributes={})
    assert not Job.objects.exists()
    # Another user's avatars do not count against this one.
    other = UserFactory()
    generation = services.generation_create(user=other, attributes={}, count=1)
    assert generation.owner == other


def test_saving_at_the_limit_is_refused_and_saves_nothing(settings):
    settings.SAFEFACE_MAX_AVATARS = 1
    candidate = CandidateFactory()
    user = candidate.generation.owner
    AvatarFactory(owner=user)
    with pytest.raises(services.AvatarLimitReached):
        services.avatar_create_from_candidate(user=user, candidate=candidate, name="Extra")
    assert Avatar.objects.filter(owner=user).count() == 1
    candidate.refresh_from_db()
    assert candidate.saved_as is None


def test_saving_a_candidate_copies_its_files_and_records():
    candidate = CandidateFactory(prompt="a portrait")
    user = candidate.generation.owner
    avatar = services.avatar_create_from_candidate(user=user, candidate=candidate, name="  Ada ")
    assert avatar.name == "Ada"
    assert avatar.owner == user
    assert avatar.seed == candidate.seed
    assert avatar.engine == candidate.engine and avatar.engine_version == candidate.engine_version
    assert avatar.attributes == candidate.generation.attributes
    assert avatar.honoured == candidate.honoured
    assert avatar.prompt == "a portrait"
    for copy, original in (
        (avatar.image, candidate.image),
        (avatar.face_crop, candidate.face_crop),
    ):
        assert copy.name != original.name
        assert copy.name.startswith(f"users/{user.pk}/avatars/{avatar.pk}/")
        assert stored_bytes(copy) == stored_bytes(original)
    # The candidate's own files stay for the page still showing them.
    assert candidate.image.storage.exists(candidate.image.name)
    # Saving the same candidate again returns the same avatar instead of a duplicate.
    again = services.avatar_create_from_candidate(user=user, candidate=candidate, name="Twice")
    assert again.pk == avatar.pk
    assert Avatar.objects.filter(owner=user).count() == 1


def test_deleting_an_avatar_removes_its_files():
    avatar = AvatarFactory()
    storage = avatar.image.storage
    paths = [avatar.image.name, avatar.face_crop.name]
    assert all(storage.exists(path) for path in paths)
    services.avatar_delete(avatar=avatar)
    assert not Avatar.objects.filter(pk=avatar.pk).exists()
    assert not any(storage.exists(path) for path in paths)
    assert not storage.exists(f"users/{avatar.owner_id}/avatars/{avatar.pk}")


def test_cleanup_removes_day_old_candidates_but_not_saved_avatars():
    old = CandidateFactory()
    saved = services.avatar_create_from_candidate(
        user=old.generation.owner, candidate=old, name="Kept"
    )
    fresh = CandidateFactory()
    Generation.objects.filter(pk=old.generation_id).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    storage = old.image.storage
    removed = services.candidates_cleanup()
    assert removed == 1
    assert not Candidate.objects.filter(pk=old.pk).exists()
    assert not storage.exists(old.image.name) and not storage.exists(old.face_crop.name)
    assert Candidate.objects.filter(pk=fresh.pk).exists()
    saved.refresh_from_db()
    assert storage.exists(saved.image.name)


def test_rename_strips_the_name():
    avatar = AvatarFactory(name="Old")
    services.avatar_rename(avatar=avatar, name="  New name ")
    avatar.refresh_from_db()
    assert avatar.name == "New name"


def test_validated_attributes_are_stored_in_full(flat_engine, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False):
        generation = services.generation_create(
            user=user, attributes={"glasses": "glasses"}, count=1
        )
    assert generation.attributes == {**blank(), "glasses": "glasses"}
    assert generation.engine == "test-flat"
    assert generation.job.kind == Job.Kind.GENERATE
