"""Video face swap: PyAV decode, face tracking, swap, libx264 encode, with frames streamed
through bounded queues between four threads so memory stays flat whatever the video's length.

Frames stay in the encoder's YUV 4:2:0 from decoder to encoder; only what the tracker and the
swap read (crops around the faces) and write (the faces' boxes, the badge) is converted to RGB
and back. Converting whole frames both ways cost more than the swap itself at 720p."""

from __future__ import annotations

import math
import os
import queue
import threading
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import av
import av.error
import cv2
import numpy as np

from worker import errors, provenance, registry
from worker.tracking import Detector, FaceTracker
from worker.types import (
    CancelledCheck,
    Face,
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
# Frames waiting between two stages. Each 1080p frame is 3 MB (YUV 4:2:0), so the three queues
# hold at most about 75 MB whatever the video's length.
QUEUE_FRAMES = 8
# While every face is followed and any face will do, the full face detector (about 75 ms of
# CPU at 720p, tiles and all) re-runs this often to pick up newcomers too small for the quick
# detector, which looks every WATCH_SECONDS (about 3 ms). Run every 2 s and every 3 frames,
# these two cost about 2.5 ms a 720p frame, a third of a plain transcode's. A face that goes
# missing is searched for at once, whatever these say.
REDETECT_SECONDS = 5.0
WATCH_SECONDS = 0.25
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


def _i420_planes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of an I420 array (shape (height * 3 / 2, width))."""
    height, width = data.shape[0] * 2 // 3, data.shape[1]
    size = width * height
    flat = data.reshape(-1)
    chroma = (height // 2, width // 2)
    return (data[:height], flat[size:size + size // 4].reshape(chroma),
            flat[size + size // 4:].reshape(chroma))


def _pack_i420(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """One I420 array from three planes (any strides): the layout OpenCV and PyAV read."""
    height, width = y.shape
    size = width * height
    data = np.empty((height * 3 // 2, width), np.uint8)
    flat = data.reshape(-1)
    flat[:size].reshape(height, width)[:] = y
    flat[size:size + size // 4].reshape(u.shape)[:] = u
    flat[size + size // 4:].reshape(v.shape)[:] = v
    return data


def _even_box(x0: float, y0: float, x1: float, y1: float, width: int,
              height: int) -> tuple[int, int, int, int]:
    """The box grown to even pixel bounds (4:2:0 chroma covers 2x2 blocks), within the frame."""
    ex0 = max(0, int(math.floor(x0)) // 2 * 2)
    ey0 = max(0, int(math.floor(y0)) // 2 * 2)
    ex1 = min(width, -(-int(math.ceil(x1)) // 2) * 2)
    ey1 = min(height, -(-int(math.ceil(y1)) // 2) * 2)
    return ex0, ey0, max(ex1, ex0), max(ey1, ey0)


class I420Frame:
    """A frame held as planar YUV 4:2:0 in one array (I420: the Y plane, then U and V), as
    PyAV decodes it and libx264 takes it, read and written in RGB one box at a time.

    Reading converts only the box; writing converts back only the pixels that changed (and the
    chroma of the 2x2 blocks holding them), so everything else reaches the encoder exactly as
    decoded. Implements the tracker's ``FrameView``.
    """

    def __init__(self, data: np.ndarray):
        self.data = data
        self.height, self.width = data.shape[0] * 2 // 3, data.shape[1]
        self.y, self.u, self.v = _i420_planes(data)
        self._rgb: Image | None = None

    def rgb(self) -> Image:
        if self._rgb is None:
            self._rgb = cv2.cvtColor(self.data, cv2.COLOR_YUV2RGB_I420)
        return self._rgb

    def region(self, x0: int, y0: int, x1: int, y1: int) -> Image:
        ex0, ey0, ex1, ey1 = _even_box(x0, y0, x1, y1, self.width, self.height)
        rows, cols = slice(ey0 // 2, ey1 // 2), slice(ex0 // 2, ex1 // 2)
        packed = _pack_i420(self.y[ey0:ey1, ex0:ex1], self.u[rows, cols], self.v[rows, cols])
        rgb = cv2.cvtColor(packed, cv2.COLOR_YUV2RGB_I420)
        return rgb[y0 - ey0:y1 - ey0, x0 - ex0:x1 - ex0]

    def shrunk(self, side: int) -> Image:
        scale = side / max(self.width, self.height)
        if scale >= 1:
            return self.rgb()
        width = max(2, round(self.width * scale / 2) * 2)
        height = max(2, round(self.height * scale / 2) * 2)
        planes = [cv2.resize(plane, size, interpolation=cv2.INTER_AREA) for plane, size in (
            (self.y, (width, height)), (self.u, (width // 2, height // 2)),
            (self.v, (width // 2, height // 2)))]
        return cv2.cvtColor(_pack_i420(*planes), cv2.COLOR_YUV2RGB_I420)

    def write(self, x0: int, y0: int, before: Image, after: Image) -> None:
        """Store the RGB box ``after`` at (x0, y0) where it differs from ``before`` (what
        ``region`` gave for it). The box's corner and sides must be even."""
        # Channel by channel and block corner by block corner: numpy's any() along short
        # axes costs ten times more.
        differs = before != after
        changed = differs[..., 0] | differs[..., 1] | differs[..., 2]
        if not changed.any():
            return
        height, width = changed.shape
        y, u, v = _i420_planes(cv2.cvtColor(np.ascontiguousarray(after),
                                            cv2.COLOR_RGB2YUV_I420))
        np.copyto(self.y[y0:y0 + height, x0:x0 + width], y, where=changed)
        top, bottom = changed[0::2], changed[1::2]
        blocks = top[:, 0::2] | top[:, 1::2] | bottom[:, 0::2] | bottom[:, 1::2]
        cy, cx = y0 // 2, x0 // 2
        np.copyto(self.u[cy:cy + height // 2, cx:cx + width // 2], u, where=blocks)
        np.copyto(self.v[cy:cy + height // 2, cx:cx + width // 2], v, where=blocks)
        self._rgb = None


def decoded_i420(frame: Any) -> np.ndarray:
    """A decoded PyAV frame as an upright I420 array with even sides: the pipeline's first
    step (public, like ``swap_faces`` and ``stamp``, so benchmarks/video.py can time the
    stages one by one)."""
    rotation = _rotation(frame)
    if frame.width % 2 or frame.height % 2:
        # 4:2:0 needs even sides: crop the upright RGB picture and convert that.
        image = _upright(frame.to_ndarray(format="rgb24"), rotation)
        return cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420)
    data = frame.to_ndarray(format="yuv420p")
    if not rotation:
        return data
    return _pack_i420(*(np.rot90(plane, k=rotation // 90) for plane in _i420_planes(data)))


def _face_regions(faces: list[Face], width: int, height: int,
                  reach: float | None) -> list[tuple[tuple[int, int, int, int], list[Face]]]:
    """Boxes of the frame to hand to the swapper, each with the faces inside it: every face's
    box (landmarks included) grown by ``reach`` of its size, overlapping boxes merged. A
    swapper that does not say how far it reaches gets the whole frame."""
    if reach is None:
        return [((0, 0, width, height), list(faces))]
    regions: list[tuple[tuple[int, int, int, int], list[Face]]] = []
    for face in faces:
        x0, y0, x1, y1 = face.box
        if face.landmarks is not None:
            low, high = face.landmarks.min(axis=0), face.landmarks.max(axis=0)
            x0, y0 = min(x0, float(low[0])), min(y0, float(low[1]))
            x1, y1 = max(x1, float(high[0])), max(y1, float(high[1]))
        margin = reach * max(x1 - x0, y1 - y0) + 4
        box = _even_box(x0 - margin, y0 - margin, x1 + margin, y1 + margin, width, height)
        group = [face]
        # Merge with every region it overlaps, until it overlaps none.
        merged = True
        while merged:
            merged = False
            for other in regions:
                (ax0, ay0, ax1, ay1), others = other
                if ax0 < box[2] and box[0] < ax1 and ay0 < box[3] and box[1] < ay1:
                    regions.remove(other)
                    box = (min(ax0, box[0]), min(ay0, box[1]), max(ax1, box[2]),
                           max(ay1, box[3]))
                    group = others + group
                    merged = True
                    break
        regions.append((box, group))
    return [(box, group) for box, group in regions if box[2] > box[0] and box[3] > box[1]]


def _shifted(face: Face, dx: float, dy: float) -> Face:
    """The face in the coordinates of a box whose corner is at (-dx, -dy)."""
    offset = np.array([dx, dy], dtype=np.float32)
    x0, y0, x1, y1 = face.box
    return replace(face, box=(x0 + dx, y0 + dy, x1 + dx, y1 + dy),
                   keypoints=np.asarray(face.keypoints, np.float32) + offset,
                   landmarks=None if face.landmarks is None else face.landmarks + offset)


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
    """One swap run in four stages joined by bounded queues: a decode thread, a tracking
    thread, the swap on the calling thread (which also checks for cancellation and reports
    progress), and an encode thread. PyAV, libx264, mediapipe's graphs, OpenCV and most numpy
    work release the GIL, so on two cores the stages overlap: tracking (which must go frame by
    frame) runs ahead while earlier frames are swapped and encoded."""

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
        self.tracked = _Pipe(self.stop)
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
            stages = [
                _Stage("video-decode", lambda: self._decode(source, video_in, audio_in),
                       self.stop),
                _Stage("video-track", lambda: self._track(video_in), self.stop),
                _Stage("video-encode", lambda: self._encode(target, video_out, audio_out),
                       self.stop),
            ]
            for stage in stages:
                stage.start()
            try:
                self._swap_frames()
            except _Stopped:
                pass
            except BaseException:
                self.stop.set()
                raise
            finally:
                # A stage that fails sets the stop flag itself, which ends the others.
                for stage in stages:
                    stage.join()
            for stage in stages:
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
                        self.decoded.put(("video", decoded_i420(frame), frame.pts, frame.time))
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

    def _track(self, video_in: Any) -> None:
        """Follow the faces frame by frame (own thread: the tracker's mediapipe graphs are
        made and used here only)."""
        fps = self.info.fps or 25.0
        tracker = FaceTracker(self.detect, self.options.faces,
                              redetect_every=max(1, round(REDETECT_SECONDS * fps)),
                              watch_every=max(1, round(WATCH_SECONDS * fps)))
        frame_step = max(1, round(1 / fps / video_in.time_base))
        frames = 0
        start_time: float | None = None
        last_pts: int | None = None
        try:
            while (item := self.decoded.get()) is not _END:
                if item[0] == "audio":
                    self.tracked.put(item)
                    continue
                _, data, pts, time = item
                # Missing or repeated timestamps would make libx264 refuse the frame.
                if pts is None or (last_pts is not None and pts <= last_pts):
                    pts = 0 if last_pts is None else last_pts + frame_step
                last_pts = pts
                time = float(pts * video_in.time_base) if time is None else time
                start_time = time if start_time is None else start_time
                frame = I420Frame(data)
                faces = tracker.update(frame, time)
                if not tracker.has_found_faces and time - start_time >= FACE_SEARCH_SECONDS:
                    raise errors.NoFaceFound(
                        "No face was found in the first seconds of this video.")
                self.tracked.put(("video", frame, pts, faces))
                frames += 1
        finally:
            tracker.close()
        if frames == 0:
            raise errors.EmptyVideo()
        if not tracker.has_found_faces:
            raise errors.NoFaceFound("No face was found in this video.")
        self.tracked.put(_END)

    def _swap_frames(self) -> None:
        # The tracker has already picked the faces; the swapper replaces all it is given.
        options = replace(self.options, faces="all")
        total = self.info.frames
        done = 0
        while (item := self.tracked.get()) is not _END:
            if self.cancelled():
                raise errors.Cancelled()
            if item[0] == "audio":
                self.to_encode.put(item)
                continue
            _, frame, pts, faces = item
            if faces:
                swap_faces(frame, faces, self.swapper, self.source, options)
            if self.options.watermark:
                stamp(frame)
            self.to_encode.put(("video", frame.data, pts))
            done += 1
            total = max(total, done)
            self.progress(done, total)
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
            _, data, pts = item
            frame = av.VideoFrame.from_ndarray(data, format=PIXEL_FORMAT)
            frame.pts = pts
            frame.time_base = time_base
            target.mux(video_out.encode(frame))
        target.mux(video_out.encode(None))
        if audio_out is not None and not self.copy_audio:
            target.mux(audio_out.encode(None))


def swap_faces(frame: I420Frame, faces: list[Face], swapper: Any, source: SourceFace,
               options: SwapOptions) -> None:
    """Swap the faces in place, converting only the boxes around them to RGB and back (the
    whole frame for a swapper that does not say how far its swap reaches)."""
    reach = getattr(swapper, "reach", None)
    for (x0, y0, x1, y1), group in _face_regions(faces, frame.width, frame.height, reach):
        before = frame.region(x0, y0, x1, y1)
        after = swapper.swap(before, [_shifted(face, -x0, -y0) for face in group], source,
                             options)
        frame.write(x0, y0, before, after)


def stamp(frame: I420Frame) -> None:
    """The provenance badge on the frame, converting only its corner."""
    x0, y0, x1, y1 = _even_box(*provenance.badge_box(frame.width, frame.height), frame.width,
                               frame.height)
    before = frame.region(x0, y0, x1, y1)
    after = before.copy()
    provenance.mark_in_place(after, size=(frame.width, frame.height), offset=(x0, y0))
    frame.write(x0, y0, before, after)
