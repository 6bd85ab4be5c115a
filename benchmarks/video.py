"""Video swap benchmark: swap time against a plain transcode, frames per second at 720p and
1080p with one and four faces, and peak memory for a short and a long clip.

Run ``python -m benchmarks.video``; the figures it prints are quoted in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import av
import numpy as np
from PIL import Image

from tests.worker.videoutil import moving_photo_frames, write_clip
from worker.analysis import MediapipeAnalyser
from worker.swap.landmark import LandmarkSwapper
from worker.tracking import FaceTracker
from worker.types import SwapOptions
from worker.video import (
    PIXEL_FORMAT,
    REDETECT_SECONDS,
    VIDEO_CODEC,
    VIDEO_CODEC_OPTIONS,
    WATCH_SECONDS,
    I420Frame,
    decoded_i420,
    stamp,
    swap_faces,
    swap_video,
)

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SHARED_AVATAR = SHARED / "fixtures" / "mobius" / "avatar-a.png"
FPS = 25
OPTIONS = SwapOptions()


def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def source_image() -> np.ndarray:
    """The Mobius avatar from ../shared (the benchmark needs a generated face to swap in)."""
    if not SHARED_AVATAR.exists():
        sys.exit(f"{SHARED_AVATAR} is absent: the benchmark needs a generated source face")
    return np.asarray(Image.open(SHARED_AVATAR).convert("RGB"))


def make_clip(path: Path, *, size: tuple[int, int], seconds: float, tiles: int = 1) -> Path:
    """A clip of the astronaut (``tiles`` x ``tiles`` of her for several faces), AAC tone."""
    frames = moving_photo_frames(astronaut(), frames=int(seconds * FPS), size=size, tiles=tiles)
    return write_clip(path, frames, fps=FPS)


def plain_transcode(input_path: Path, output_path: Path) -> int:
    """Decode and re-encode with the swap's encoder settings, audio copied: the floor any
    video pipeline pays. Returns the frame count."""
    frames = 0
    with av.open(str(input_path)) as source, av.open(
        str(output_path), "w", format="mp4", options={"movflags": "+faststart"}
    ) as target:
        video_in = source.streams.video[0]
        video_in.thread_type = "AUTO"
        audio_in = source.streams.audio[0]
        video_out = target.add_stream(VIDEO_CODEC, rate=video_in.average_rate,
                                      options=VIDEO_CODEC_OPTIONS)
        video_out.width, video_out.height = video_in.width, video_in.height
        video_out.pix_fmt = PIXEL_FORMAT
        video_out.time_base = video_in.time_base
        video_out.codec_context.time_base = video_in.time_base
        audio_out = target.add_stream_from_template(audio_in)
        for packet in source.demux(video_in, audio_in):
            if packet.stream is audio_in:
                if packet.dts is not None:
                    packet.stream = audio_out
                    target.mux(packet)
                continue
            for frame in packet.decode():
                frame.pict_type = av.video.frame.PictureType.NONE
                target.mux(video_out.encode(frame))
                frames += 1
        target.mux(video_out.encode(None))
    return frames


def timed_swap(clip: Path, output: Path, swapper: LandmarkSwapper, analyser: MediapipeAnalyser,
               source: object) -> float:
    start = time.perf_counter()
    swap_video(clip, output, source, OPTIONS, swapper=swapper, detect=analyser.analyse)
    return time.perf_counter() - start


def wall_and_cpu(run: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all threads of this process) of one call."""
    cpu_start, start = time.process_time(), time.perf_counter()
    run()
    return time.perf_counter() - start, time.process_time() - cpu_start


def stage_times(clip: Path, swapper: LandmarkSwapper, analyser: MediapipeAnalyser,
                source: object) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds of each step of the pipeline run alone, one after the other, on
    frames held in memory: decoding (to YUV 4:2:0), tracking, swapping (with the badge), and
    encoding. Their sum is what a pipeline without overlap would take."""
    times = {}
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames: list[np.ndarray] = []
        times["decode"] = wall_and_cpu(
            lambda: frames.extend(decoded_i420(frame) for frame in container.decode(stream)))
    tracker = FaceTracker(analyser.analyse, redetect_every=round(REDETECT_SECONDS * FPS),
                          watch_every=round(WATCH_SECONDS * FPS))
    views = [I420Frame(data) for data in frames]
    tracked: list[list] = []
    times["track"] = wall_and_cpu(lambda: tracked.extend(
        tracker.update(view, index / FPS) for index, view in enumerate(views)))
    tracker.close()

    def swap_all() -> None:
        for view, faces in zip(views, tracked, strict=True):
            if faces:
                swap_faces(view, faces, swapper, source, OPTIONS)
            stamp(view)

    times["swap"] = wall_and_cpu(swap_all)

    def encode_all() -> None:
        with tempfile.TemporaryDirectory() as work, av.open(f"{work}/out.mp4", "w") as target:
            video = target.add_stream(VIDEO_CODEC, rate=FPS, options=VIDEO_CODEC_OPTIONS)
            video.height, video.width = views[0].height, views[0].width
            video.pix_fmt = PIXEL_FORMAT
            for view in views:
                target.mux(video.encode(av.VideoFrame.from_ndarray(view.data, format=PIXEL_FORMAT)))
            target.mux(video.encode(None))

    times["encode"] = wall_and_cpu(encode_all)
    return times


def memory_child(clip: Path) -> None:
    """Run in a child process: swap the clip and print the process's peak RSS in MB."""
    swapper, analyser = LandmarkSwapper(), MediapipeAnalyser()
    source = swapper.prepare_source(source_image())
    with tempfile.TemporaryDirectory() as work:
        swap_video(clip, Path(work) / "out.mp4", source, SwapOptions(), swapper=swapper,
                   detect=analyser.analyse)
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent through
    # fork and exec, so a child of a big parent would report the parent's peak.
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    print(peak_kb / 1024)


def peak_memory_mb(clip: Path) -> float:
    result = subprocess.run([sys.executable, "-m", "benchmarks.video", "--memory-child", str(clip)],
                            check=True, capture_output=True, text=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the speed clips")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the 720p comparison")
    parser.add_argument("--quick", action="store_true",
                        help="only the 720p comparison and its stages (no fps table, no memory)")
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    swapper, analyser = LandmarkSwapper(), MediapipeAnalyser()
    source = swapper.prepare_source(source_image())
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        print("Video swap benchmark (noisy: the machine's 2 cores are shared)")
        clip = make_clip(work / "720p.mp4", size=(1280, 720), seconds=args.seconds)
        frames = int(args.seconds * FPS)
        timed_swap(clip, work / "warm.mp4", swapper, analyser, source)
        # Alternate the two so that a burst of load from elsewhere hits both alike.
        plains, swaps = [], []
        for _ in range(args.repeats):
            plains.append(wall_and_cpu(lambda: plain_transcode(clip, work / "plain.mp4")))
            swaps.append(wall_and_cpu(
                lambda: timed_swap(clip, work / "swap.mp4", swapper, analyser, source)))
        plain, plain_cpu = (statistics.median(values) for values in zip(*plains, strict=True))
        swap, swap_cpu = (statistics.median(values) for values in zip(*swaps, strict=True))
        print(f"720p, 1 face, {frames} frames, median of {args.repeats}: plain transcode "
              f"{plain:.2f} s ({frames / plain:.0f} fps, {plain_cpu:.2f} s CPU), swap {swap:.2f} s "
              f"({frames / swap:.1f} fps, {swap_cpu:.2f} s CPU); wall ratio {swap / plain:.2f}x, "
              f"CPU ratio {swap_cpu / plain_cpu:.2f}x")
        print(f"  CPU a frame: plain {1000 * plain_cpu / frames:.1f} ms, swap "
              f"{1000 * swap_cpu / frames:.1f} ms")
        print("  runs (plain, swap) wall s: " + ", ".join(
            f"({p:.2f}, {s:.2f})" for (p, _), (s, _) in zip(plains, swaps, strict=True)))
        stages = stage_times(clip, swapper, analyser, source)
        print("  stages alone, wall / CPU ms a frame: " + ", ".join(
            f"{name} {1000 * wall / frames:.1f} / {1000 * cpu / frames:.1f}"
            for name, (wall, cpu) in stages.items()))
        total = sum(wall for wall, _ in stages.values())
        print(f"  sum of stages {total:.2f} s vs pipelined {swap:.2f} s")
        if args.quick:
            return

        for size, label in (((1280, 720), "720p"), ((1920, 1080), "1080p")):
            for tiles, faces in ((1, "1 face"), (2, "4 faces")):
                clip = make_clip(work / f"{label}-{tiles}.mp4", size=size, seconds=args.seconds,
                                 tiles=tiles)
                elapsed = timed_swap(clip, work / "out.mp4", swapper, analyser, source)
                print(f"{label}, {faces}: {frames / elapsed:.1f} fps")

        short = make_clip(work / "10s.mp4", size=(640, 360), seconds=10)
        long = make_clip(work / "120s.mp4", size=(640, 360), seconds=120)
        short_mb, long_mb = peak_memory_mb(short), peak_memory_mb(long)
        print(f"peak RSS, 640x360: 10 s clip {short_mb:.0f} MB, 120 s clip {long_mb:.0f} MB, "
              f"ratio {long_mb / short_mb:.2f}")


if __name__ == "__main__":
    main()
