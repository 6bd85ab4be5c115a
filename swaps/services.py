"""Writes of the swap flow: accept a target, request a swap, render it, delete and expire."""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import av
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage

from jobs import services as job_services
from jobs.models import Job
from safeface.files import delete_tree
from swaps.models import MediaKind, Swap, Target
from swaps.uploads import ACCEPTED_TEXT, SNIFF_BYTES, FileType, sniff, too_large_message
from worker import api, errors, registry
from worker.types import Face, SwapOptions

# Faces narrower than this (pixels, in the target) are shown but cannot be picked: the swap
# would be a smear at that size.
MIN_FACE_SIDE = 40
# Face thumbnails on the target page.
FACE_THUMB_SIDE = 160
# The target's own preview.
TARGET_THUMB_SIDE = 640
# A video's faces are looked for on every this many frames of its first seconds: the same
# frames the video pipeline's tracker searches, so face numbers mean the same faces there.
VIDEO_SEARCH_EVERY = 5
# Two boxes this similar (intersection over union) are the same face.
SAME_FACE_IOU = 0.5


class UploadRejected(Exception):
    """The upload cannot be used; ``str(error)`` is the message shown on the upload page."""


class SwapRefused(Exception):
    """The swap cannot be requested as asked; ``str(error)`` is shown on the target page."""


@dataclass(frozen=True)
class _Analysed:
    """What the upload checks learnt, ready to be stored."""

    file_type: FileType
    width: int
    height: int
    duration: float
    frame: np.ndarray  # the picture the faces were found in, RGB
    faces: list[Face]
    image: np.ndarray | None  # the decoded photo (re-encoded on save); None for a video


# Upload ---------------------------------------------------------------------------------------

def target_create(*, owner, upload: UploadedFile) -> Target:
    """Check an upload (type by content, limits, faces) and store it as the owner's target.

    Cheap checks come first: the declared size, the first bytes, the header's pixel count or
    the video's probe; pixels are decoded only once those pass. Nothing is stored when any
    check fails (``UploadRejected`` says why).
    """
    with tempfile.TemporaryDirectory(prefix="safeface-upload-") as folder:
        path = _local_copy(upload, Path(folder))
        analysed = _analyse_upload(path, size=upload.size)
        return _store_target(owner=owner, upload=upload, path=path, analysed=analysed)


def _local_copy(upload: UploadedFile, folder: Path) -> Path:
    """A path on disk for the upload: its temporary file when it streamed to one, else a copy."""
    temporary = getattr(upload, "temporary_file_path", None)
    if temporary is not None:
        return Path(temporary())
    path = folder / "upload"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def _analyse_upload(path: Path, *, size: int) -> _Analysed:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    file_type = sniff(head)
    if file_type is None:
        raise UploadRejected(
            f"This file is not a photo or video we can use: we accept {ACCEPTED_TEXT}, "
            "and we go by what the file contains, not its name.")
    try:
        if file_type.kind == MediaKind.IMAGE:
            return _analyse_image(path, file_type, size=size)
        return _analyse_video(path, file_type, size=size)
    except errors.EngineError as error:
        raise UploadRejected(str(error)) from error


def _analyse_image(path: Path, file_type: FileType, *, size: int) -> _Analysed:
    from worker import imageio

    if size > settings.SAFEFACE_MAX_IMAGE_BYTES:
        raise UploadRejected(too_large_message(settings.SAFEFACE_MAX_IMAGE_BYTES))
    limit = settings.SAFEFACE_MAX_IMAGE_PIXELS
    try:
        # Opening reads only the header: the pixel count is known before any pixel is decoded.
        with PILImage.open(path) as header:
            width, height = header.size
    except PILImage.DecompressionBombError as error:
        # Pillow refuses headers claiming over ~180 megapixels before we can read the size.
        raise errors.ImageTooLarge(
            f"This image is larger than the {limit / 1e6:.0f} megapixels we accept.") from error
    except (OSError, ValueError) as error:
        raise errors.CorruptImage() from error
    if width * height > limit:
        raise errors.ImageTooLarge(
            f"This image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"we accept up to {limit / 1e6:.0f} megapixels.")
    image = imageio.load_image(path, max_pixels=limit)
    faces = _usable_faces(api.analyse(image))
    height, width = image.shape[:2]
    return _Analysed(file_type, width, height, 0.0, image, faces, image)


def _analyse_video(path: Path, file_type: FileType, *, size: int) -> _Analysed:
    from worker import video

    if size > settings.SAFEFACE_MAX_VIDEO_BYTES:
        raise UploadRejected(too_large_message(settings.SAFEFACE_MAX_VIDEO_BYTES))
    info = video.probe(path)
    if info.duration > settings.SAFEFACE_MAX_VIDEO_SECONDS:
        raise UploadRejected(
            f"This video lasts {_duration_text(info.duration)}; we accept videos up to "
            f"{_duration_text(settings.SAFEFACE_MAX_VIDEO_SECONDS)}.")
    if max(info.width, info.height) > settings.SAFEFACE_MAX_VIDEO_SIDE:
        raise UploadRejected(
            f"This video is {info.width}x{info.height}; we accept videos up to "
            f"{settings.SAFEFACE_MAX_VIDEO_SIDE} pixels on the longer side (4K).")
    frame, faces = _first_faces_in_video(path, seconds=video.FACE_SEARCH_SECONDS)
    return _Analysed(file_type, info.width, info.height, info.duration, frame,
                     _usable_faces(faces, video=True), None)


def _duration_text(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _first_faces_in_video(path: Path, *, seconds: float) -> tuple[np.ndarray, list[Face]]:
    """The first searched frame of the video's first seconds that shows a face, and its faces."""
    first: np.ndarray | None = None
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.guessed_rate or 25)
            for index, frame in enumerate(container.decode(stream)):
                if index / rate > seconds:
                    break
                if index % VIDEO_SEARCH_EVERY:
                    continue
                picture = frame.to_ndarray(format="rgb24")
                turns = int(round((frame.rotation or 0) / 90.0)) % 4
                picture = np.ascontiguousarray(np.rot90(picture, k=turns))
                first = picture if first is None else first
                faces = api.analyse(picture)
                if faces:
                    return picture, faces
    except av.error.FFmpegError as error:
        raise errors.CorruptVideo() from error
    raise errors.NoFaceFound(
        f"No face was found in the first {seconds:.0f} seconds of this video.")


def _usable_faces(faces: list[Face], *, video: bool = False) -> list[Face]:
    """The faces, refusing a picture with none or with only faces too small to swap."""
    if not faces:
        raise errors.NoFaceFound()
    if all(min(face.width, face.height) < MIN_FACE_SIDE for face in faces):
        where = "video" if video else "picture"
        raise errors.FaceTooSmall(
            f"The faces in this {where} are too small to swap (under {MIN_FACE_SIDE} pixels "
            "across); use a closer or larger one.")
    return faces


def _store_target(*, owner, upload: UploadedFile, path: Path, analysed: _Analysed) -> Target:
    file_type = analysed.file_type
    target = Target(
        owner=owner, kind=file_type.kind, content_type=file_type.content_type,
        original_name=Path(upload.name or "").name[:200], width=analysed.width,
        height=analysed.height, duration=analysed.duration,
        expires_at=timezone.now() + timedelta(hours=settings.SAFEFACE_TARGET_TTL_HOURS),
    )
    try:
        if analysed.image is not None:
            # Re-encoded from the pixels alone (orientation already applied): EXIF, GPS and
            # every other piece of the upload's metadata are dropped. Not through
            # imageio.save_image, which would label the user's own photo as AI-made.
            target.file.save(f"target.{file_type.extension}",
                             ContentFile(_encode(analysed.image, file_type)), save=False)
        else:
            with path.open("rb") as handle:
                target.file.save(f"target.{file_type.extension}", File(handle), save=False)
        target.thumbnail.save("preview.jpg", ContentFile(_jpeg(_fit(analysed.frame,
                                                                    TARGET_THUMB_SIDE))),
                              save=False)
        target.faces = [_face_record(target, analysed.frame, face, index)
                        for index, face in enumerate(analysed.faces)]
        target.save()
    except BaseException:
        delete_tree(_folder(target))
        raise
    return target


def _encode(image: np.ndarray, file_type: FileType) -> bytes:
    buffer = io.BytesIO()
    picture = PILImage.fromarray(image)
    if file_type.extension == "png":
        picture.save(buffer, format="PNG")
    else:
        picture.save(buffer, format="JPEG" if file_type.extension == "jpg" else "WEBP",
                     quality=95)
    return buffer.getvalue()


def _face_record(target: Target, frame: np.ndarray, face: Face, index: int) -> dict:
    x0, y0, x1, y1 = (float(v) for v in face.box)
    crop = _square_crop(frame, face.box, padding=0.3)
    thumb = target.file.storage.save(f"{_folder(target)}/face-{index}.jpg",
                                     ContentFile(_jpeg(_fit(crop, FACE_THUMB_SIDE))))
    return {
        "box": [round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1)],
        "score": round(float(face.score), 3),
        "thumb": thumb,
        "usable": min(face.width, face.height) >= MIN_FACE_SIDE,
    }


def _folder(obj: Target | Swap) -> str:
    return f"users/{obj.owner_id}/{obj._meta.model_name}s/{obj.pk}"


def _square_crop(image: np.ndarray, box, *, padding: float) -> np.ndarray:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * padding)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    height, width = image.shape[:2]
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    return image[top:bottom, left:right]


def _fit(image: np.ndarray, side: int) -> PILImage.Image:
    picture = PILImage.fromarray(np.ascontiguousarray(image))
    picture.thumbnail((side, side), PILImage.Resampling.LANCZOS)
    return picture


def _jpeg(picture: PILImage.Image) -> bytes:
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


# Swap request ---------------------------------------------------------------------------------

def swap_request(
    *,
    owner,
    target: Target,
    avatar,
    faces: list[int] | str,
    feather: float = 0.5,
    colour_match: float = 1.0,
    keep_audio: bool = True,
    enhance: bool = False,
) -> Swap:
    """Create the swap and its job, and send the job to a worker once this transaction commits.

    ``faces`` is "all", "largest" or indices into ``target.faces``; the target and the avatar
    must be the owner's (the view looked them up through the owner).
    """
    from swaps.tasks import swap_run

    if target.owner_id != owner.pk or avatar.owner_id != owner.pk:
        raise SwapRefused("That photo or avatar is not yours.")
    usable = [i for i, face in enumerate(target.faces) if face.get("usable", True)]
    if isinstance(faces, str):
        if faces not in ("all", "largest"):
            raise SwapRefused("Choose which faces to replace.")
        everyone = faces == "all" and len(usable) == len(target.faces)
        selection: list[int] | str = faces if faces == "largest" or everyone else usable
    else:
        selection = sorted(set(faces))
        if not selection:
            raise SwapRefused("Tick at least one face to replace.")
        if any(i not in usable for i in selection):
            raise SwapRefused("One of the ticked faces is too small or no longer there.")
    options = {
        "faces": selection,
        "feather": min(1.0, max(0.0, float(feather))),
        "colour_match": min(1.0, max(0.0, float(colour_match))),
        "keep_audio": bool(keep_audio),
        "enhance": bool(enhance) and enhancer_available(),
    }
    with transaction.atomic():
        job = job_services.job_create(owner=owner, kind=Job.Kind.SWAP)
        swap = Swap.objects.create(owner=owner, job=job, target=target, avatar=avatar,
                                   kind=target.kind, options=options)
        # Using a target keeps it for another TTL, so "swap again" works while the user is busy.
        Target.objects.filter(pk=target.pk).update(
            expires_at=timezone.now() + timedelta(hours=settings.SAFEFACE_TARGET_TTL_HOURS))
        job_services.job_enqueue(job=job, task=swap_run)
    return swap


def enhancer_available() -> bool:
    return any(r.cls.available() for r in registry.backends("enhance"))


# Swap rendering (called by the task, inside jobs.runner.run_job) ------------------------------

def swap_render(
    *,
    swap: Swap,
    workdir: Path,
    report: Callable[[int, int, str | None], None],
    cancelled: Callable[[], bool],
) -> None:
    """Run the engine for a swap and store its output and thumbnail on the row.

    Work files go to ``workdir``; storage is written only once the engine has finished.
    Engine errors propagate with their user-readable messages.
    """
    from worker import imageio, provenance

    target, avatar = swap.target, swap.avatar
    if target is None or not target.file:
        raise errors.EngineError(
            "The photo or video for this swap is no longer kept; please upload it again.")
    if avatar is None or not avatar.image:
        raise errors.EngineError("The avatar for this swap was deleted; choose another one.")
    report(0, 1, "Preparing the avatar…")
    swapper = registry.get("swap", _swap_engine())
    source = api.prepare_source(imageio.load_image(_local_path(avatar.image, workdir)),
                                backend=swapper.name)
    options = swap.options
    if target.kind == MediaKind.IMAGE:
        image = imageio.load_image(_local_path(target.file, workdir),
                                   max_pixels=settings.SAFEFACE_MAX_IMAGE_PIXELS)
        faces = api.analyse(image)
        if not faces:
            raise errors.NoFaceFound()
        selection = _match_faces(target.faces, options["faces"], faces)
        result = api.swap(image, faces, source, _swap_options(options, selection),
                          backend=swapper.name)
        if cancelled():
            raise errors.Cancelled()
        result = provenance.mark(result)
        extension = target.extension or "png"
        output = workdir / f"output.{extension}"
        imageio.save_image(output, result, format=_image_format_by_extension(extension),
                           engine=swapper.name)
        preview = result
    else:
        output = workdir / "output.mp4"
        api.swap_video(_local_path(target.file, workdir), output, source,
                       _swap_options(options, options["faces"]), backend=swapper.name,
                       progress=_video_progress(report), cancelled=cancelled)
        preview = _first_frame(output)
    if cancelled():
        raise errors.Cancelled()
    with output.open("rb") as handle:
        swap.output.save(f"safeface-{swap.pk}{output.suffix}", File(handle), save=False)
    swap.thumbnail.save("thumbnail.jpg", ContentFile(_jpeg(_fit(preview, TARGET_THUMB_SIDE))),
                        save=False)
    swap.engine = swapper.name
    swap.engine_version = str(getattr(swapper, "version", ""))[:40]
    swap.save(update_fields=["output", "thumbnail", "engine", "engine_version"])


def _swap_engine() -> str | None:
    name = settings.SAFEFACE_SWAP_ENGINE
    return None if name in ("", "best") else name


def _local_path(field_file, workdir: Path) -> Path:
    """A local path for a stored file: its own on a disk storage, else a copy in the workdir."""
    try:
        return Path(field_file.path)
    except NotImplementedError:
        copy = workdir / Path(field_file.name).name
        with field_file.open("rb") as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out)
        return copy


def _image_format_by_extension(extension: str) -> str:
    return {"jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}.get(extension, "png")


def _match_faces(recorded: list[dict], selection, faces: list[Face]) -> list[int] | str:
    """The chosen faces as indices into ``faces``, matched to the upload's faces by box."""
    if selection in ("all", "largest"):
        return selection
    chosen = []
    for index in selection:
        if not 0 <= index < len(recorded):
            continue
        box = recorded[index]["box"]
        ious = [_iou(box, face.box) for face in faces]
        best = int(np.argmax(ious)) if ious else -1
        if best >= 0 and ious[best] >= SAME_FACE_IOU:
            chosen.append(best)
    if not chosen:
        raise errors.NoFaceFound("The faces chosen to swap were not found in the picture.")
    return sorted(set(chosen))


def _iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _swap_options(options: dict, faces) -> SwapOptions:
    return SwapOptions(faces=faces, feather=options["feather"],
                       colour_match=options["colour_match"], keep_audio=options["keep_audio"],
                       enhance=options["enhance"])


def _video_progress(report: Callable[[int, int, str | None], None]) -> Callable[[int, int], None]:
    """A progress callback that says "frame X of Y, about N s left", writing at most twice a
    second so the database is not hammered at video frame rates."""
    started = time.monotonic()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and done < total:
            return
        last[0] = now
        message = f"Frame {done} of {total}" if total else f"Frame {done}"
        if done and total:
            left = (now - started) / done * (total - done)
            message += f", about {max(1, round(left))} s left"
        report(done, total, message + ".")

    return progress


def _first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="rgb24")
    raise errors.EmptyVideo()


def swap_discard_output(*, swap: Swap) -> None:
    """Remove whatever a failed or cancelled swap stored, so nothing half-made is shown."""
    delete_tree(_folder(swap))
    Swap.objects.filter(pk=swap.pk).update(output="", thumbnail="")


# Deleting and expiring ------------------------------------------------------------------------

def swap_delete(*, swap: Swap) -> None:
    """Delete a swap with its files and its job (cancelling the job if it still runs)."""
    if not swap.job.is_finished:
        job_services.job_cancel(job=swap.job)
    delete_tree(_folder(swap))
    swap.job.delete()  # cascades to the swap


def target_delete(*, target: Target) -> None:
    """Delete a target and its files; swaps made from it keep their outputs."""
    delete_tree(_folder(target))
    target.delete()


def targets_delete_expired(*, now: datetime | None = None) -> int:
    """Delete every target past its expiry, with its files; returns how many went.

    A target still in use by a queued or running swap is kept until that swap ends.
    """
    now = now or timezone.now()
    busy = Swap.objects.exclude(job__status__in=Job.FINISHED).values("target_id")
    expired = Target.objects.filter(expires_at__lt=now).exclude(pk__in=busy)
    count = 0
    for target in expired:
        target_delete(target=target)
        count += 1
    return count
