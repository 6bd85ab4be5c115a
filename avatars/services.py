"""Writes for avatars: start a generation, store its candidates, save one as an Avatar, rename,
delete, and clean up old candidates."""

from __future__ import annotations

import os
import posixpath
import random
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from avatars import selectors
from avatars.models import Avatar, Candidate, Generation
from jobs import services as jobs
from jobs.models import Job
from jobs.runner import JobContext
from worker import api, provenance
from worker.attributes import Attributes, surprise, validate
from worker.errors import GenerationFailed, ModelUnavailable
from worker.imageio import save_image
from worker.types import GeneratedFace

MAX_CANDIDATES = 8
# Each candidate's seed sits this far from the next, so a generator that resamples seed,
# seed + 1, ... after a rejected face never lands on another candidate's seed.
CANDIDATE_SEED_STRIDE = 1000
CANDIDATES_KEPT_FOR = timedelta(days=1)


class AvatarLimitReached(Exception):
    """The user keeps as many avatars as allowed; ``str()`` is shown to them."""

    def __init__(self, limit: int):
        super().__init__(
            f"You have {limit} avatars, the most you can keep. "
            "Delete one from your gallery to make room for a new one."
        )


class GenerationRefused(Exception):
    """A generation request outside what the builder allows; ``str()`` is shown to the user."""


def attributes_surprise(*, rng: random.Random | None = None) -> Attributes:
    """Every field drawn uniformly over its choices (the schema's ``surprise``), from the
    operating system's randomness unless a seeded ``rng`` is given."""
    return surprise(rng or random.SystemRandom())


def candidate_seed(base_seed: int, index: int) -> int:
    return base_seed + index * CANDIDATE_SEED_STRIDE


def generation_create(
    *, user, attributes: dict[str, str], count: int | None = None, seed: int | None = None
) -> Generation:
    """Check the request, create the job and its Generation, and send the task on commit.

    An unfinished earlier generation of the same user is cancelled: the builder shows one
    batch at a time, and a small machine should not make faces nobody will see.
    """
    checked = validate(attributes)
    count = settings.SAFEFACE_GENERATE_COUNT if count is None else count
    if not 1 <= count <= MAX_CANDIDATES:
        raise GenerationRefused(f"Ask for between 1 and {MAX_CANDIDATES} faces at a time.")
    if selectors.avatar_limit_reached(user=user):
        raise AvatarLimitReached(selectors.avatar_limit())
    engine = selectors.generate_engine_name()
    if engine is None:
        raise ModelUnavailable("No avatar generator is installed on this server.")
    from avatars.tasks import generate_candidates

    for earlier in Generation.objects.filter(owner=user).exclude(job__status__in=Job.FINISHED):
        jobs.job_cancel(job=earlier.job)
    candidates_cleanup()
    with transaction.atomic():
        job = jobs.job_create(owner=user, kind=Job.Kind.GENERATE)
        generation = Generation.objects.create(
            owner=user,
            job=job,
            attributes=checked,
            count=count,
            engine=engine,
            base_seed=secrets.randbelow(2**31) if seed is None else seed,
        )
        jobs.job_enqueue(job=job, task=generate_candidates)
    return generation


def generation_cancel(*, generation: Generation) -> Job:
    return jobs.job_cancel(job=generation.job)


def generation_run(*, generation: Generation, context: JobContext) -> None:
    """The task's body: make the candidates one by one, storing each as it is made, so the
    builder shows them while the rest are still being generated. A candidate the engine
    cannot make (no face passed its gate) is skipped; the job fails only when none could be
    made. A redelivered job keeps the candidates already stored and makes only the rest."""
    total = generation.count
    stored = set(generation.candidates.values_list("index", flat=True))
    failure: GenerationFailed | None = None
    for index in range(total):
        context.check_cancelled()
        if index in stored:
            continue
        context.progress(index, total, message=f"Making face {index + 1} of {total}…")
        try:
            faces = api.generate(
                generation.attributes,
                candidate_seed(generation.base_seed, index),
                1,
                backend=generation.engine,
                cancelled=context.cancelled,
            )
        except GenerationFailed as error:
            failure = error
            continue
        # A cancel that arrived while the engine worked: the face is not stored.
        context.check_cancelled()
        candidate_store(generation=generation, index=index, face=faces[0])
        stored.add(index)
    if not stored:
        raise failure or GenerationFailed()
    made = len(stored)
    if made < total:
        context.done_message = (
            f"{made} of {total} faces ready; the engine could not make the others with these "
            "choices. Pick one, or leave some choices at Any and generate more."
        )
    else:
        context.done_message = f"{total} faces ready. Pick one, name it and save it."


def _png(image: np.ndarray, *, engine: str) -> bytes:
    """PNG bytes carrying SafeFace's AI-generated statement (and no other metadata)."""
    with tempfile.TemporaryDirectory(prefix="safeface-avatar-") as folder:
        path = save_image(
            Path(folder) / "image.png", image, format="png", engine=engine,
            source_type=provenance.GENERATED,
        )
        return path.read_bytes()


def _honoured(face: GeneratedFace) -> dict[str, dict]:
    return {
        name: {"asked": result.asked, "measured": result.measured, "honoured": result.honoured}
        for name, result in face.attributes.items()
    }


def _delete_files(*files: FieldFile) -> None:
    """Remove stored files and, on a local disk, the folders they leave empty."""
    folders = set()
    for file in files:
        if file and file.name:
            folders.add(posixpath.dirname(file.name))
            file.storage.delete(file.name)
    for folder in folders:
        local = getattr(files[0].storage, "path", None)
        if local is None:
            continue
        try:
            os.rmdir(local(folder))
        except (OSError, NotImplementedError):
            pass


def candidate_store(*, generation: Generation, index: int, face: GeneratedFace) -> Candidate:
    """Store one generated face; on any failure its files are removed (nothing half-saved)."""
    candidate = Candidate(
        generation=generation,
        index=index,
        seed=face.seed,
        prompt=face.prompt,
        honoured=_honoured(face),
        engine=face.backend,
        engine_version=face.version,
    )
    try:
        # The visible AI-made badge goes on the portrait, the one image shown and swapped from.
        portrait = provenance.mark(face.image)
        candidate.image.save(
            "image.png", ContentFile(_png(portrait, engine=face.backend)), save=False
        )
        candidate.face_crop.save(
            "face.png", ContentFile(_png(face.face_crop, engine=face.backend)), save=False
        )
        candidate.save()
    except BaseException:
        _delete_files(candidate.image, candidate.face_crop)
        raise
    return candidate


def avatar_create_from_candidate(*, user, candidate: Candidate, name: str) -> Avatar:
    """Save a picked candidate as the user's Avatar, copying its files (the builder page may
    still be showing them). Refused at the per-user limit; saving the same candidate again
    returns the avatar it already made."""
    if candidate.saved_as_id:
        return candidate.saved_as
    if selectors.avatar_limit_reached(user=user):
        raise AvatarLimitReached(selectors.avatar_limit())
    generation = candidate.generation
    avatar = Avatar(
        owner=user,
        name=name.strip(),
        attributes=generation.attributes,
        honoured=candidate.honoured,
        prompt=candidate.prompt,
        seed=candidate.seed,
        engine=candidate.engine,
        engine_version=candidate.engine_version,
    )
    try:
        with candidate.image.open("rb") as source:
            avatar.image.save("image.png", ContentFile(source.read()), save=False)
        with candidate.face_crop.open("rb") as source:
            avatar.face_crop.save("face.png", ContentFile(source.read()), save=False)
        with transaction.atomic():
            avatar.save()
            candidate.saved_as = avatar
            candidate.save(update_fields=["saved_as"])
    except BaseException:
        _delete_files(avatar.image, avatar.face_crop)
        raise
    return avatar


def avatar_rename(*, avatar: Avatar, name: str) -> Avatar:
    avatar.name = name.strip()
    avatar.save(update_fields=["name"])
    return avatar


def avatar_delete(*, avatar: Avatar) -> None:
    """Delete the avatar and its files from disk; swaps made with it keep their outputs."""
    files = (avatar.image, avatar.face_crop)
    avatar.delete()
    _delete_files(*files)


def candidates_cleanup(*, now=None) -> int:
    """Delete generations older than a day with their candidates' files; returns how many
    candidates were removed. Saved avatars have their own copies and are untouched."""
    now = now or timezone.now()
    old = Generation.objects.filter(created_at__lt=now - CANDIDATES_KEPT_FOR)
    removed = 0
    for generation in old:
        if not generation.job.is_finished:
            jobs.job_cancel(job=generation.job)
        for candidate in generation.candidates.all():
            _delete_files(candidate.image, candidate.face_crop)
            removed += 1
        generation.delete()
    return removed
