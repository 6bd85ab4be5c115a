"""The video swap pipeline on real clips encoded and decoded with PyAV: timing and audio kept,
the face replaced in every frame and nothing else, progress, cancellation, rotation, bad files,
and the tracker's smoothing and face selection."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.worker.faceutil import face_mask, inner_face_mask
from tests.worker.videoutil import (
    moving_photo_frames,
    read_frames,
    write_audio_only,
    write_clip,
    write_empty_video,
    write_undecodable_video,
)
from worker import errors
from worker.analysis import MediapipeAnalyser
from worker.provenance import VIDEO_COMMENT
from worker.swap.landmark import LandmarkSwapper
from worker.tracking import FaceTracker, OneEuroFilter
from worker.types import SwapOptions
from worker.video import probe, swap_video

FPS = 25
FRAMES = 40
NO_WATERMARK = SwapOptions(watermark=False)


@pytest.fixture(scope="module")
def analyser():
    return MediapipeAnalyser()


@pytest.fixture(scope="module")
def swapper():
    return LandmarkSwapper()


@pytest.fixture(scope="module")
def source(swapper, mobius_avatar_a):
    return swapper.prepare_source(mobius_avatar_a)


@pytest.fixture(scope="module")
def swap(swapper, analyser, source):
    """swap_video with the test's source face, swapper and analyser."""

    def run(clip: Path, output: Path, options: SwapOptions = NO_WATERMARK, **kwargs):
        return swap_video(clip, output, source, options, swapper=swapper,
                          detect=analyser.analyse, **kwargs)

    return run


@pytest.fixture(scope="module")
def clip(tmp_path_factory, astronaut) -> Path:
    """40 frames (1.6 s) at 25 fps, 640x480: the astronaut drifting and zooming, AAC tone."""
    path = tmp_path_factory.mktemp("clips") / "astronaut.mp4"
    return write_clip(path, moving_photo_frames(astronaut, frames=FRAMES), fps=FPS)


@pytest.fixture(scope="module")
def swapped(tmp_path_factory, clip, swap) -> tuple[Path, object, list]:
    """The clip swapped once, without the watermark, with every progress call recorded."""
    calls: list[tuple[int, int]] = []
    output = tmp_path_factory.mktemp("out") / "swapped.mp4"
    info = swap(clip, output, progress=lambda done, total: calls.append((done, total)))
    return output, info, calls


def test_probe_reads_the_clip(clip):
    info = probe(clip)
    assert (info.width, info.height, info.frames, info.rotation) == (640, 480, FRAMES, 0)
    assert info.fps == pytest.approx(FPS)
    assert info.duration == pytest.approx(FRAMES / FPS, abs=0.01)
    assert info.has_audio


def test_swap_keeps_frame_count_rate_duration_and_aac_audio(clip, swapped):
    output, info, _ = swapped
    assert (info.width, info.height, info.frames) == (640, 480, FRAMES)
    assert info.fps == pytest.approx(FPS)
    assert info.duration == pytest.approx(FRAMES / FPS, abs=0.01)
    assert info.has_audio
    with av.open(str(clip)) as before, av.open(str(output)) as after:
        video = after.streams.video[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert [f.pts for f in after.decode(video)] == [f.pts for f in before.decode(video=0)]
        audio_in, audio_out = before.streams.audio[0], after.streams.audio[0]
        assert audio_out.codec_context.name == "aac"
        assert audio_out.frames == audio_in.frames
        assert float(audio_out.duration * audio_out.time_base) == pytest.approx(
            float(audio_in.duration * audio_in.time_base), abs=0.03)
        assert after.metadata.get("comment") == VIDEO_COMMENT
    data = output.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "movflags=+faststart puts the index first"


def test_face_replaced_in_every_frame_and_the_rest_kept(clip, swapped, analyser):
    before, after = read_frames(clip), read_frames(swapped[0])
    assert len(before) == len(after) == FRAMES
    for index, (original, result) in enumerate(zip(before, after, strict=True)):
        faces = analyser.analyse(original)
        assert len(faces) == 1, f"frame {index}"
        diff = np.abs(original.astype(np.int16) - result.astype(np.int16)).mean(axis=2)
        size = int(max(faces[0].width, faces[0].height))
        inner = inner_face_mask(faces[0].landmarks, original.shape)
        outside = ~face_mask(faces[0].landmarks, original.shape, dilate=size // 4)
        assert diff[inner].mean() > 12, f"frame {index}: face not replaced"
        assert diff[outside].mean() < 2.5, f"frame {index}: background changed"


def test_swapped_face_is_still_found_upright_in_place(clip, swapped, analyser):
    before, after = read_frames(clip), read_frames(swapped[0])
    for index in (0, FRAMES // 2, FRAMES - 1):
        original, result = analyser.analyse(before[index]), analyser.analyse(after[index])
        assert len(result) == 1
        assert abs(result[0].pose.roll) < 15
        moved = np.subtract(_centre(result[0].box), _centre(original[0].box))
        assert np.hypot(*moved) < 0.1 * original[0].width


def _centre(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def test_progress_counts_up_to_the_total(swapped):
    calls = swapped[2]
    assert [done for done, _ in calls] == list(range(1, FRAMES + 1))
    assert all(total == FRAMES for _, total in calls)


def test_audio_dropped_when_not_kept(tmp_path, clip, swap):
    output = tmp_path / "silent.mp4"
    info = swap(clip, output, SwapOptions(keep_audio=False, watermark=False))
    assert not info.has_audio and info.frames == FRAMES
    with av.open(str(output)) as container:
        assert not container.streams.audio


def test_other_audio_is_reencoded_to_aac(tmp_path, astronaut, swap):
    clip = write_clip(tmp_path / "opus.mkv", moving_photo_frames(astronaut, frames=25), fps=FPS,
                      audio="libopus")
    output = tmp_path / "out.mp4"
    info = swap(clip, output)
    assert info.has_audio and info.frames == 25
    with av.open(str(output)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        samples = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio)])
    # The 440 Hz tone survives the re-encode: its energy sits at 440 Hz.
    spectrum = np.abs(np.fft.rfft(samples[:32768]))
    peak = np.fft.rfftfreq(32768, 1 / audio.codec_context.sample_rate)[spectrum.argmax()]
    assert peak == pytest.approx(440, abs=5)


def test_cancel_mid_way_raises_and_leaves_no_file(tmp_path, clip, swap):
    output = tmp_path / "cancelled.mp4"
    seen: list[int] = []
    with pytest.raises(errors.Cancelled):
        swap(clip, output, progress=lambda done, total: seen.append(done),
                   cancelled=lambda: len(seen) >= 10)
    assert len(seen) == 10
    assert list(tmp_path.iterdir()) == []


def test_rotated_phone_clip_comes_out_upright(tmp_path, astronaut, swap, analyser):
    upright = list(moving_photo_frames(astronaut, frames=20, size=(480, 640)))
    # Stored on its side, as a phone's sensor records it; the display matrix turns it back.
    stored = [np.ascontiguousarray(np.rot90(frame, k=-1)) for frame in upright]
    clip = write_clip(tmp_path / "phone.mp4", stored, fps=FPS, rotation=90)
    info_in = probe(clip)
    assert (info_in.width, info_in.height, info_in.rotation) == (480, 640, 90)
    output = tmp_path / "out.mp4"
    info = swap(clip, output)
    assert (info.width, info.height, info.rotation) == (480, 640, 0)
    with av.open(str(output)) as container:
        first = next(container.decode(video=0))
        assert (first.width, first.height) == (480, 640)
    frames = read_frames(output)
    faces = analyser.analyse(frames[10])
    assert len(faces) == 1 and abs(faces[0].pose.roll) < 15
    # Upright: the eyes are above the mouth.
    assert faces[0].keypoints[:2, 1].max() < faces[0].keypoints[3:, 1].min()


def test_watermark_on_every_frame(tmp_path, clip, swap, swapped):
    output = tmp_path / "marked.mp4"
    swap(clip, output, SwapOptions(watermark=True))
    marked, plain = read_frames(output), read_frames(swapped[0])
    assert len(marked) == len(plain)
    for with_mark, without in zip(marked, plain, strict=True):
        diff = np.abs(with_mark.astype(np.int16) - without.astype(np.int16)).max(axis=2)
        assert (diff > 40).sum() > 200


def test_frames_without_the_face_pass_through(tmp_path, astronaut, swap, analyser):
    frames = list(moving_photo_frames(astronaut, frames=30))
    blank = np.full_like(frames[0], 90)
    frames[10:18] = [blank] * 8
    clip = write_clip(tmp_path / "gap.mp4", frames, fps=FPS)
    output = tmp_path / "out.mp4"
    info = swap(clip, output)
    assert info.frames == 30
    before, after = read_frames(clip), read_frames(output)
    for index in range(10, 18):
        assert np.abs(before[index].astype(np.int16) - after[index]).mean() < 1.5
    for index in (5, 20, 29):
        face = analyser.analyse(before[index])[0]
        inner = inner_face_mask(face.landmarks, before[index].shape)
        diff = np.abs(before[index].astype(np.int16) - after[index]).mean(axis=2)
        assert diff[inner].mean() > 12, f"frame {index}: the returning face was not swapped"


def test_selected_face_stays_selected(tmp_path, astronaut, swap, analyser):
    """Two people side by side; ``faces=[1]`` (the smaller) swaps only that one, every frame."""
    frames = []
    for index, scene in enumerate(moving_photo_frames(astronaut, frames=20, size=(640, 360))):
        scene = scene.copy()
        small = astronaut[::2, ::2]
        scene[60:316, 360 + index:616 + index] = small
        frames.append(scene)
    clip = write_clip(tmp_path / "two.mp4", frames, fps=FPS, audio=None)
    output = tmp_path / "out.mp4"
    swap(clip, output, SwapOptions(faces=[1], watermark=False))
    before, after = read_frames(clip), read_frames(output)
    for index in range(0, 20, 3):
        faces = sorted(analyser.analyse(before[index]), key=lambda f: -f.area)
        assert len(faces) == 2
        diff = np.abs(before[index].astype(np.int16) - after[index]).mean(axis=2)
        big, small = (diff[inner_face_mask(f.landmarks, diff.shape)].mean() for f in faces)
        assert small > 12 and big < 5, f"frame {index}: {big:.1f} {small:.1f}"


@pytest.mark.parametrize("maker, error", [
    (lambda path, frames: write_audio_only(path.with_suffix(".m4a")), errors.NoVideoStream),
    (lambda path, frames: _random_bytes(path), errors.CorruptVideo),
    (lambda path, frames: write_empty_video(path.with_suffix(".mkv")), errors.EmptyVideo),
    (lambda path, frames: write_undecodable_video(path, frames), errors.UnsupportedCodec),
    (lambda path, frames: write_clip(path, [np.full((240, 320, 3), 90, np.uint8)] * 80, fps=FPS),
     errors.NoFaceFound),
])
def test_bad_inputs_raise_readable_errors(tmp_path, astronaut, swap, maker, error):
    bad = maker(tmp_path / "upload.mp4", list(moving_photo_frames(astronaut, frames=5)))
    output = tmp_path / "out.mp4"
    with pytest.raises(error) as raised:
        swap(bad, output)
    assert str(raised.value) and not output.exists()
    if error is not errors.NoFaceFound:
        with pytest.raises(error):
            probe(bad)
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).bytes(20_000))
    return path


def test_one_euro_filter_removes_jitter_and_follows_motion():
    rng = np.random.default_rng(0)
    smoother = OneEuroFilter()
    still = [smoother(np.array([[100.0, 100.0]]) + rng.normal(0, 1.0, (1, 2)), t / 25, scale=100)
             for t in range(50)]
    assert np.std(np.array(still)[25:], axis=0).max() < 0.5
    # A fast, steady move (two face sizes a second) lags by less than half a frame's step.
    moving = [smoother(np.array([[100.0 + 8 * t, 100.0]]), (50 + t) / 25, scale=100)
              for t in range(25)]
    assert abs(moving[-1][0, 0] - (100 + 8 * 24)) < 4


def test_tracker_landmarks_jitter_less_than_per_frame_analysis(tmp_path, astronaut, analyser):
    """A still shot encoded with codec noise: the tracked, smoothed landmarks hold stiller than
    landmarks measured from scratch on each frame."""
    scene = next(moving_photo_frames(astronaut, frames=1)).astype(np.int16)
    rng = np.random.default_rng(0)
    noisy = [np.clip(scene + rng.normal(0, 4, scene.shape), 0, 255).astype(np.uint8)
             for _ in range(30)]
    clip = write_clip(tmp_path / "still.mp4", noisy, fps=FPS, audio=None)
    frames = read_frames(clip)
    tracker = FaceTracker(analyser.analyse)
    tracked = np.array([tracker.update(frame, i / FPS)[0].landmarks
                        for i, frame in enumerate(frames)])
    tracker.close()
    measured = np.array([analyser.analyse(frame)[0].landmarks for frame in frames])
    jitter_tracked = np.linalg.norm(np.diff(tracked[5:], axis=0), axis=2).mean()
    jitter_measured = np.linalg.norm(np.diff(measured[5:], axis=0), axis=2).mean()
    assert jitter_tracked < jitter_measured
    assert np.abs(tracked[-1] - measured[-1]).mean() < 3


def test_engine_front_door_swaps_a_video(tmp_path, astronaut, mobius_avatar_a, analyser):
    """``worker.api.swap_video`` with backends from the registry, as the Celery task calls it."""
    from worker import api

    clip = write_clip(tmp_path / "in.mp4", moving_photo_frames(astronaut, frames=12), fps=FPS)
    source = api.prepare_source(mobius_avatar_a, backend="landmark")
    info = api.swap_video(clip, tmp_path / "out.mp4", source, backend="landmark")
    assert info.frames == 12 and info.has_audio
    before, after = read_frames(clip)[6], read_frames(tmp_path / "out.mp4")[6]
    face = analyser.analyse(before)[0]
    diff = np.abs(before.astype(np.int16) - after).mean(axis=2)
    assert diff[inner_face_mask(face.landmarks, before.shape)].mean() > 12
