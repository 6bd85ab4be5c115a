"""Test clips made in code: a photo moved and scaled over frames, encoded with PyAV, with a
sine-tone audio track; and readers that decode clips back to upright RGB frames."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import av
import cv2
import numpy as np

# 48 kHz suits both AAC and Opus (which accepts nothing else).
SAMPLE_RATE = 48000


def moving_photo_frames(photo: np.ndarray, *, frames: int, size: tuple[int, int] = (640, 480),
                        tiles: int = 1) -> Iterator[np.ndarray]:
    """``frames`` RGB frames of ``size`` (width, height): the photo (tiled ``tiles`` x ``tiles``)
    drifting sideways and slowly zooming over a grey background, as a hand-held camera would."""
    width, height = size
    if tiles > 1:
        photo = np.concatenate([np.concatenate([photo] * tiles, axis=1)] * tiles, axis=0)
    for index in range(frames):
        phase = index / max(frames - 1, 1)
        scale = height / photo.shape[0] * (0.85 + 0.1 * phase)
        shown = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.full((height, width, 3), 90, dtype=np.uint8)
        x = int((width - shown.shape[1]) / 2 + 0.1 * width * np.sin(2 * np.pi * phase))
        y = int((height - shown.shape[0]) / 2 + 0.04 * height * np.cos(2 * np.pi * phase))
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + shown.shape[1], width), min(y + shown.shape[0], height)
        canvas[y0:y1, x0:x1] = shown[y0 - y:y1 - y, x0 - x:x1 - x]
        yield canvas


def _tone(seconds: float) -> np.ndarray:
    samples = np.arange(int(round(seconds * SAMPLE_RATE))) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 440.0 * samples)).astype(np.float32)


def _write_audio(container: av.container.OutputContainer, stream: av.AudioStream,
                 seconds: float) -> None:
    tone = _tone(seconds)
    chunk = 1024
    for start in range(0, len(tone), chunk):
        frame = av.AudioFrame.from_ndarray(tone[None, start:start + chunk], format="flt",
                                           layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        frame.time_base = Fraction(1, SAMPLE_RATE)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def write_clip(path: Path, frames: Iterable[np.ndarray], *, fps: int = 25,
               audio: str | None = "aac", rotation: int = 0, codec: str = "libx264") -> Path:
    """Encode RGB frames into ``path`` (container from its suffix) with a sine tone in ``audio``
    ("aac", "libopus" or None) as long as the video. ``rotation`` stores a display matrix that
    turns the stored picture counterclockwise by that many degrees when shown."""
    frames = iter(frames)
    first = next(frames)
    count = 0
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=fps)
        video.height, video.width = first.shape[:2]
        video.pix_fmt = "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sound = container.add_stream(audio, rate=SAMPLE_RATE) if audio else None
        if sound is not None:
            sound.layout = "mono"
        # Streamed, so long clips take no more memory than short ones.
        for index, image in enumerate(itertools.chain([first], frames)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(video.encode(frame))
            count += 1
        container.mux(video.encode(None))
        if sound is not None:
            _write_audio(container, sound, count / fps)
    return path


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An AAC file with a sine tone and no video track."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=SAMPLE_RATE)
        stream.layout = "mono"
        _write_audio(container, stream, seconds)
    return path


def write_empty_video(path: Path) -> Path:
    """A Matroska file with an H.264 video track that holds no frames (and a short tone, since
    a muxer writes no file for a stream without packets)."""
    with av.open(str(path), "w", format="matroska") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        stream = container.add_stream("aac", rate=SAMPLE_RATE)
        stream.layout = "mono"
        _write_audio(container, stream, 0.5)
    return path


def write_undecodable_video(path: Path, frames: Iterable[np.ndarray]) -> Path:
    """An MP4 whose video track names a codec no decoder knows: a real H.264 clip whose 'avc1'
    sample-entry tag is overwritten, the way a file from an exotic camera would look."""
    write_clip(path, frames, audio=None)
    path.write_bytes(path.read_bytes().replace(b"avc1", b"zzzz"))
    return path


def read_frames(path: Path) -> list[np.ndarray]:
    """Every frame of the first video stream as upright RGB arrays (display rotation applied)."""
    with av.open(str(path)) as container:
        images = []
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="rgb24")
            turns = int(round((frame.rotation or 0) / 90)) % 4
            images.append(np.ascontiguousarray(np.rot90(image, k=turns)))
        return images
