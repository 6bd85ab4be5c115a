"""Video face swap: PyAV decode, face tracking and swap, libx264 encode, with frames streamed
through bounded queues between three threads so memory stays flat whatever the video's length."""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import av
import av.error
import numpy as np

from worker import errors, provenance, registry
from worker.tracking import Detector, FaceTracker
from worker.types import (
    CancelledCheck,
    Image,
    ProgressCallback,
    SourceFace,
    SwapOptions,
    VideoInfo,
    never_cancelled,
    no_progress,
)

# libx264 "veryfast" at crf 20: visually clean for faces at about the speed of decoding, and
# the preset a plain transcode is measured against in benchmarks/video.py.
VIDEO_CODEC = "libx264"
VIDEO_CODEC_OPTIONS = {"preset": "veryfast", "crf": "20"}
PIXEL_FORMAT = "yuv420p"
AUDIO_CODEC = "aac"
# Frames waiting between two stages. Each 1080p frame is 6 MB, so the queues hold at most
# about 100 MB whatever the video's length.
QUEUE_FRAMES = 8
# The full face detector re-runs this often to pick up newcomers and re-anchor the tracks.
REDETECT_SECONDS = 2.0
# A video whose first seconds show no face is refused rather than passed through unchanged.
FACE_SEARCH_SECONDS = 3.0

_END = object()


def probe(path: Path | str) -> VideoInfo:
    """Width and height as displayed (rotation applied), frame rate, frame count, duration and
    audio presence of a video file; raises the engine's errors for files it cannot swap."""
    with _open_input(path) as container:
        stream = _video_stream(container)
        first = _first_frame(container, stream)
        frames = stream.frames or _count_frames(path)
        rotation = _rotation(first)
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        else:
            duration = frames / fps if fps else 0.0
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        return VideoInfo(width=width, height=height, fps=fps, frames=frames, duration=duration,
                         has_audio=bool(container.streams.audio), rotation=rotation)


def swap_video(
    input_path: Path | str,
    output_path: Path | str,
    source: SourceFace,
    options: SwapOptions = SwapOptions(),
    *,
    swapper: Any,
    progress: ProgressCallback = no_progress,
    cancelled: CancelledCheck = never_cancelled,
    detect: Detector | None = None,
) -> VideoInfo:
    """Write ``output_path`` (MP4, H.264, AAC audio when kept) with the selected faces of every
    frame replaced by the source face; returns the output's info.

    ``swapper`` is a swap backend (``swap(frame, faces, source, options)``); ``detect`` finds
    faces in a frame (default: the best analyse backend). Frames before a face is first found,
    and frames where it is lost, are passed through unchanged. Nothing is left at
    ``output_path`` when the swap fails or is cancelled.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    info = probe(input_path)
    if detect is None:
        detect = registry.get("analyse").analyse
    partial = output_path.with_name(f".{output_path.name}.partial")
    try:
        _Pipeline(input_path, partial, info, source, options, swapper=swapper, detect=detect,
                  progress=progress, cancelled=cancelled).run()
        os.replace(partial, output_path)
    finally:
        partial.unlink(missing_ok=True)
    return probe(output_path)


def _open_input(path: Path | str) -> Any:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.FileNotFoundError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise errors.CorruptVideo() from error


def _video_stream(container: Any) -> Any:
    if not container.streams.video:
        raise errors.NoVideoStream()
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise errors.UnsupportedCodec()
    return stream


def _first_frame(container: Any, stream: Any) -> Any:
    """The first decoded frame, proving the stream decodes; EmptyVideo when it has none."""
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.DecoderNotFoundError as error:
        raise errors.UnsupportedCodec() from error
    except av.error.FFmpegError as error:
        raise errors.CorruptVideo() from error
    raise errors.EmptyVideo()


def _count_frames(path: Path | str) -> int:
    """Video packets in the file, for containers (Matroska, WebM) that do not store a count."""
    with _open_input(path) as container:
        stream = container.streams.video[0]
        try:
            return sum(1 for packet in container.demux(stream) if packet.size)
        except av.error.FFmpegError as error:
            raise errors.CorruptVideo() from error


def _rotation(frame: Any) -> int:
    """The frame's display rotation, counterclockwise, as 0, 90, 180 or 270 degrees."""
    return int(round((frame.rotation or 0) / 90.0)) % 4 * 90


def _upright(image: Image, rotation: int) -> Image:
    """The decoded picture turned as a player would show it, cropped to even sides for 4:2:0."""
    if rotation:
        image = np.rot90(image, k=rotation // 90)
    height, width = image.shape[:2]
    return np.ascontiguousarray(image[: height - height % 2, : width - width % 2])


class _Stopped(Exception):
    """Raised inside a stage when another stage failed or the job was cancelled."""


class _Pipe:
    """A bounded queue between two stages that stops waiting as soon as the run is stopped."""

    def __init__(self, stop: threading.Event):
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._stop = stop

    def put(self, item: Any) -> None:
        while True:
            if self._stop.is_set():
                raise _Stopped()
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def get(self) -> Any:
        while True:
            if self._stop.is_set():
                raise _Stopped()
            try:
                return self._queue.get(timeout=0.1)
            except queue.Empty:
                continue


class _Stage(threading.Thread):
    """A pipeline thread that keeps its exception for the main thread to raise."""

    def __init__(self, name: str, target: Callable[[], None], stop: threading.Event):
        super().__init__(name=name, daemon=True)
        self._work = target
        self._stop_all = stop
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._work()
        except _Stopped:
            pass
        except BaseException as error:  # handed to the main thread, which raises it
            self.error = error
            self._stop_all.set()


class _Pipeline:
    """One swap run: a decode thread, the tracking and swap on the calling thread, an encode
    thread. PyAV and libx264 release the GIL while they work, so on two cores decoding and
    encoding overlap the Python-side swap of other frames."""

    def __init__(self, input_path: Path, output_path: Path, info: VideoInfo, source: SourceFace,
                 options: SwapOptions, *, swapper: Any, detect: Detector,
                 progress: ProgressCallback, cancelled: CancelledCheck):
        self.input_path = input_path
        self.output_path = output_path
        self.info = info
        self.source = source
        self.options = options
        self.swapper = swapper
        self.detect = detect
        self.progress = progress
        self.cancelled = cancelled
        self.copy_audio = False
        self.stop = threading.Event()
        self.decoded = _Pipe(self.stop)
        self.to_encode = _Pipe(self.stop)

    def run(self) -> None:
        with _open_input(self.input_path) as source, av.open(
            str(self.output_path), "w", format="mp4", options={"movflags": "+faststart"}
        ) as target:
            video_in = source.streams.video[0]
            video_in.thread_type = "AUTO"
            audio_in = None
            if self.options.keep_audio and source.streams.audio:
                audio_in = source.streams.audio[0]
            self.copy_audio = audio_in is not None and audio_in.codec_context.name == AUDIO_CODEC
            video_out, audio_out = self._add_streams(target, video_in, audio_in)
            target.metadata.update(provenance.video_metadata(getattr(self.swapper, "name", "")))
            decoder = _Stage("video-decode", lambda: self._decode(source, video_in, audio_in),
                             self.stop)
            encoder = _Stage("video-encode", lambda: self._encode(target, video_out, audio_out),
                             self.stop)
            decoder.start()
            encoder.start()
            try:
                self._swap_frames(video_in)
            except _Stopped:
                pass
            except BaseException:
                self.stop.set()
                raise
            finally:
                encoder.join()
                if encoder.error is not None or decoder.error is not None:
                    self.stop.set()
                decoder.join()
            for stage in (decoder, encoder):
                if stage.error is not None:
                    raise stage.error

    def _add_streams(self, target: Any, video_in: Any, audio_in: Any) -> tuple[Any, Any]:
        rate = video_in.average_rate or video_in.guessed_rate or Fraction(25)
        video_out = target.add_stream(VIDEO_CODEC, rate=rate, options=VIDEO_CODEC_OPTIONS)
        video_out.width = self.info.width - self.info.width % 2
        video_out.height = self.info.height - self.info.height % 2
        video_out.pix_fmt = PIXEL_FORMAT
        # The input's time base and timestamps go through untouched: same frame times, same
        # duration, and variable frame rate clips stay variable.
        video_out.time_base = video_in.time_base
        video_out.codec_context.time_base = video_in.time_base
        if audio_in is None:
            return video_out, None
        if self.copy_audio:
            return video_out, target.add_stream_from_template(audio_in)
        audio_out = target.add_stream(AUDIO_CODEC, rate=audio_in.codec_context.sample_rate)
        audio_out.layout = audio_in.codec_context.layout
        return video_out, audio_out

    def _decode(self, source: Any, video_in: Any, audio_in: Any) -> None:
        streams = [video_in] + ([audio_in] if audio_in is not None else [])
        try:
            for packet in source.demux(streams):
                if packet.stream is video_in:
                    for frame in packet.decode():
                        image = _upright(frame.to_ndarray(format="rgb24"), _rotation(frame))
                        self.decoded.put(("video", image, frame.pts, frame.time))
                elif self.copy_audio:
                    # The demuxer ends each stream with an empty packet: nothing to copy.
                    if packet.dts is not None:
                        self.decoded.put(("audio", packet))
                else:
                    for frame in packet.decode():
                        frame.pts = None
                        self.decoded.put(("audio", frame))
        except av.error.DecoderNotFoundError as error:
            raise errors.UnsupportedCodec() from error
        except av.error.FFmpegError as error:
            raise errors.CorruptVideo() from error
        self.decoded.put(_END)

    def _swap_frames(self, video_in: Any) -> None:
        fps = self.info.fps or 25.0
        tracker = FaceTracker(self.detect, self.options.faces,
                              redetect_every=max(1, round(REDETECT_SECONDS * fps)))
        # The tracker has already picked the faces; the swapper replaces all it is given.
        options = replace(self.options, faces="all")
        total = self.info.frames
        frame_step = max(1, round(1 / fps / video_in.time_base))
        done = 0
        start_time: float | None = None
        last_pts: int | None = None
        try:
            while (item := self.decoded.get()) is not _END:
                if self.cancelled():
                    raise errors.Cancelled()
                if item[0] == "audio":
                    self.to_encode.put(item)
                    continue
                _, image, pts, time = item
                # Missing or repeated timestamps would make libx264 refuse the frame.
                if pts is None or (last_pts is not None and pts <= last_pts):
                    pts = 0 if last_pts is None else last_pts + frame_step
                last_pts = pts
                time = float(pts * video_in.time_base) if time is None else time
                start_time = time if start_time is None else start_time
                faces = tracker.update(image, time)
                if not tracker.has_found_faces and time - start_time >= FACE_SEARCH_SECONDS:
                    raise errors.NoFaceFound(
                        "No face was found in the first seconds of this video.")
                if faces:
                    image = self.swapper.swap(image, faces, self.source, options)
                if self.options.watermark:
                    # The frame is this pipeline's own (decoded or swapped): stamp it in place.
                    provenance.mark_in_place(image)
                self.to_encode.put(("video", image, pts))
                done += 1
                total = max(total, done)
                self.progress(done, total)
        finally:
            tracker.close()
        if done == 0:
            raise errors.EmptyVideo()
        if not tracker.has_found_faces:
            raise errors.NoFaceFound("No face was found in this video.")
        if done != total:
            self.progress(done, done)
        self.to_encode.put(_END)

    def _encode(self, target: Any, video_out: Any, audio_out: Any) -> None:
        time_base = video_out.codec_context.time_base
        while (item := self.to_encode.get()) is not _END:
            if item[0] == "audio":
                if isinstance(item[1], av.Packet):
                    item[1].stream = audio_out
                    target.mux(item[1])
                else:
                    target.mux(audio_out.encode(item[1]))
                continue
            _, image, pts = item
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = pts
            frame.time_base = time_base
            target.mux(video_out.encode(frame))
        target.mux(video_out.encode(None))
        if audio_out is not None and not self.copy_audio:
            target.mux(audio_out.encode(None))
