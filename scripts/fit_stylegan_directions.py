"""Fit the offline generator's steering data from measured samples of MobileStyleGAN.

Two stages, both seeded and reproducible:

``sample``  draws seeds 0..N-1 (z from the seed; truncation psi 1.0 for two seeds in three,
            0.75 for the rest, since only psi near 1 reaches dark skin tones), synthesises each
            face, runs the face mesh, and records the style w, the landmarks, every raw
            measurement (cheek and sclera colour, smile, glasses, hair and iris colour, age and
            gender) and a 256 px thumbnail. Results go in chunks of 100 under --work, so an
            interrupted run resumes where it stopped. About 0.4 s a face on 2 cores.
``fit``     reads the chunks and writes ``worker/generate/data/steering.npz``: a bank of clean
            adult latents (float16) with their measured attributes, covering every Monk step,
            and ridge-regression directions in w for age, gender, smile and glasses.
``sheet``   writes contact sheets (PNG) of the samples sorted by one measurement, to name and
            check directions and thresholds by eye.

    python scripts/fit_stylegan_directions.py sample --count 2400 --work /tmp/stylegan_fit
    python scripts/fit_stylegan_directions.py fit --work /tmp/stylegan_fit
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker.generate import measure  # noqa: E402
from worker.generate.gate import DEFAULT_LIMITS, Rejected, check_face  # noqa: E402
from worker.generate.stylegan import DATA_DIR, networks, z_for  # noqa: E402

CHUNK = 100
THUMB = 256


def psi_for(seed: int) -> float:
    return 0.75 if seed % 3 == 0 else 1.0


def _face_mesh():
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=2,
                                           refine_landmarks=True, min_detection_confidence=0.5)


def _landmarks(mesh, image: np.ndarray) -> tuple[int, np.ndarray | None]:
    result = mesh.process(image)
    faces = result.multi_face_landmarks or []
    if not faces:
        return 0, None
    height, width = image.shape[:2]
    points = np.array([(p.x * width, p.y * height) for p in faces[0].landmark], np.float32)
    return len(faces), points


def _nan3(value: np.ndarray | None) -> np.ndarray:
    return np.full(3, np.nan) if value is None else np.asarray(value, np.float64)


def sample_chunk(start: int, mesh) -> dict[str, np.ndarray]:
    nets = networks()
    rows: dict[str, list] = {key: [] for key in (
        "seed", "psi", "w", "faces", "landmarks", "cheek", "sclera", "smile", "glasses",
        "hair_lab", "iris_lab", "age", "male", "confidence", "thumb")}
    for seed in range(start, start + CHUNK):
        psi = psi_for(seed)
        w = nets.style(z_for(seed), psi)
        image = nets.synthesis(w)
        count, points = _landmarks(mesh, image)
        rows["seed"].append(seed)
        rows["psi"].append(psi)
        rows["w"].append(w[0])
        rows["faces"].append(count)
        rows["thumb"].append(cv2.resize(image, (THUMB, THUMB), interpolation=cv2.INTER_AREA))
        if points is None:
            points = np.full((478, 2), np.nan, np.float32)
            cheek = sclera = hair = iris = None
            smile = glasses = np.nan
            estimate = None
        else:
            cheek = measure.cheek_colour(image, points)
            sclera = measure.sclera_colour(image, points)
            smile = measure.smile_score(points)
            glasses = measure.glasses_score(image, points)
            hair = measure.hair_lab(image, points)
            iris = measure.iris_lab(image, points)
            box = (*points.min(axis=0), *points.max(axis=0))
            estimate = measure.age_gender(image, box)
        rows["landmarks"].append(points)
        rows["cheek"].append(_nan3(cheek))
        rows["sclera"].append(_nan3(sclera))
        rows["smile"].append(smile)
        rows["glasses"].append(glasses)
        rows["hair_lab"].append(_nan3(hair))
        rows["iris_lab"].append(_nan3(iris))
        rows["age"].append(np.nan if estimate is None else estimate.age)
        rows["male"].append(np.nan if estimate is None else float(estimate.gender == "male"))
        rows["confidence"].append(np.nan if estimate is None else estimate.confidence)
    return {key: np.asarray(value) for key, value in rows.items()}


def command_sample(args: argparse.Namespace) -> None:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    mesh = _face_mesh()
    for start in range(0, args.count, CHUNK):
        path = work / f"chunk_{start:05d}.npz"
        if path.exists():
            continue
        began = time.perf_counter()
        chunk = sample_chunk(start, mesh)
        np.savez_compressed(work / "partial.npz", **chunk)
        (work / "partial.npz").rename(path)
        seconds = time.perf_counter() - began
        print(f"{start + CHUNK}/{args.count} samples, {seconds / CHUNK * 1000:.0f} ms a face",
              flush=True)


def load_samples(work: Path) -> dict[str, np.ndarray]:
    chunks = [np.load(path) for path in sorted(work.glob("chunk_*.npz"))]
    return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0].files}


# The bank keeps faces the runtime gate would pass with room to spare.
BANK_MIN_AGE = 23
# Pushes along the skin-tone direction tried on the darkest clean faces to fill the darkest
# Monk steps, which FFHQ barely holds; beyond about 2 units of w the faces break up.
DARK_PUSHES = (-1.0, -2.0)
DARK_SOURCES = 40
DARK_SOURCE_MIN_STEP = 6
BANK_PER_STEP = 90
MAX_ABS_YAW, MAX_ABS_PITCH = 20.0, 28.0


def derived(samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Measurements computed from the raw ones: normalised ITA, Monk step, pose, eye openness."""
    from worker.analysis import estimate_pose
    from worker.generate.gate import eye_openness

    count = len(samples["seed"])
    ita = np.full(count, np.nan)
    yaw = np.full(count, np.nan)
    pitch = np.full(count, np.nan)
    openness = np.full(count, np.nan)
    for i in range(count):
        if samples["faces"][i] == 0 or np.isnan(samples["cheek"][i]).any():
            continue
        sclera = None if np.isnan(samples["sclera"][i]).any() else samples["sclera"][i]
        ita[i] = measure.ita_of_lab(measure.normalised_skin_lab(samples["cheek"][i], sclera))
        pose = estimate_pose(samples["landmarks"][i])
        yaw[i], pitch[i] = pose.yaw, pose.pitch
        openness[i] = eye_openness(samples["landmarks"][i])
    monk = np.array([measure.monk_of_ita(v) if not np.isnan(v) else 0 for v in ita])
    sclera_l = np.array([measure.linear_to_lab(c)[0] for c in np.nan_to_num(samples["sclera"])])
    contrast = sclera_l - samples["iris_lab"][:, 0]
    return {"ita": ita, "monk": monk, "yaw": yaw, "pitch": pitch, "openness": openness,
            "eye_contrast": contrast}


def clean(samples: dict[str, np.ndarray], extra: dict[str, np.ndarray]) -> np.ndarray:
    """Indices of one-face, frontal, open-eyed adults with every measurement present."""
    return np.flatnonzero(
        (samples["faces"] == 1) & ~np.isnan(extra["ita"]) & ~np.isnan(samples["age"])
        & (samples["age"] >= BANK_MIN_AGE) & (np.abs(extra["yaw"]) <= MAX_ABS_YAW)
        & (np.abs(extra["pitch"]) <= MAX_ABS_PITCH) & (extra["openness"] >= 0.15)
        & (extra["eye_contrast"] >= DEFAULT_LIMITS.min_eye_contrast)
        & (samples["glasses"] < measure.GLASSES_THRESHOLD + 60))


def fit_direction(w: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    """Unit direction in w along which ``target`` grows, and its slope (target units per unit
    of w length along it).

    The direction is the covariance of w with the target (ridge regression in the limit of
    strong regularisation): with a few thousand samples in 512 dimensions a full
    least-squares fit chases noise. The slope is then refitted in one dimension, on the
    projection, so it states what a push along the direction really buys on these samples."""
    keep = ~np.isnan(target)
    x, y = w[keep].astype(np.float64), target[keep].astype(np.float64)
    xc, yc = x - x.mean(axis=0), y - y.mean()
    direction = xc.T @ yc
    direction /= np.linalg.norm(direction)
    projection = xc @ direction
    slope = float(projection @ yc / (projection @ projection))
    return direction.astype(np.float32), slope


def orthogonalise(direction: np.ndarray, against: list[np.ndarray]) -> np.ndarray:
    """``direction`` with its components along the others removed (InterFaceGAN's conditional
    manipulation), renormalised: pushing age, say, then leaves the skin-tone regressor alone."""
    result = direction.astype(np.float64)
    for other in against:
        other = other / np.linalg.norm(other)
        result -= (result @ other) * other
    return (result / np.linalg.norm(result)).astype(np.float32)


def choose_bank(samples: dict[str, np.ndarray], extra: dict[str, np.ndarray],
                rng: np.random.Generator) -> np.ndarray:
    """Up to BANK_PER_STEP clean faces per Monk step, alternating gender so both are kept."""
    good = clean(samples, extra)
    chosen: list[int] = []
    for step in range(1, 11):
        members = good[extra["monk"][good] == step]
        by_gender = [rng.permutation(members[samples["male"][members] == flag]) for flag in (0, 1)]
        picked: list[int] = []
        for pair in zip(*by_gender):
            picked.extend(pair)
        longer = max(by_gender, key=len)
        picked.extend(longer[len(picked) // 2:])
        chosen.extend(picked[:BANK_PER_STEP])
    return np.asarray(chosen, int)


def extend_dark(samples: dict[str, np.ndarray], extra: dict[str, np.ndarray],
                direction: np.ndarray) -> dict[str, np.ndarray]:
    """New bank faces for the darkest steps: the darkest clean samples pushed along the
    skin-tone direction, each synthesised again, put through the real face gate and measured
    like any sample. Only faces landing on step 7 or darker are kept."""
    from worker.analysis import MediapipeAnalyser

    analyser = MediapipeAnalyser()
    nets = networks()
    good = clean(samples, extra)
    # Only faces already measured brown or darker: pushing a light face that is merely dimly
    # lit makes a darker-lit light face, not darker skin (seen on the contact sheets).
    good = good[extra["monk"][good] >= DARK_SOURCE_MIN_STEP]
    sources = good[np.argsort(extra["ita"][good])][:DARK_SOURCES]
    rows: dict[str, list] = {key: [] for key in (
        "w", "seed", "ita", "monk", "age", "male", "confidence", "smile", "glasses", "hair",
        "eyes")}
    for index in sources:
        for push in DARK_PUSHES:
            w = samples["w"][index] + push * direction
            image = nets.synthesis(w)
            try:
                passed = check_face(image, faces=analyser.analyse(image))
            except Rejected:
                continue
            face = passed.face
            found = measure.measure(image, face.landmarks, face.box, estimate=passed.estimate)
            if found.monk is None or found.monk < 7 or passed.age < BANK_MIN_AGE:
                continue
            for key, value in (("w", w), ("seed", samples["seed"][index]), ("ita", found.skin_ita),
                               ("monk", found.monk), ("age", found.age),
                               ("male", float(found.gender == "male")),
                               ("confidence", found.gender_confidence), ("smile", found.smile),
                               ("glasses", found.glasses), ("hair", found.hair_colour or ""),
                               ("eyes", found.eye_colour or "")):
                rows[key].append(value)
            cv2.imwrite(f"/tmp/dark_{samples['seed'][index]}_{-push:.0f}.png",
                        cv2.cvtColor(cv2.resize(image, (256, 256)), cv2.COLOR_RGB2BGR))
    print(f"dark extension: {len(rows['w'])} faces, Monk steps",
          np.bincount(np.asarray(rows["monk"], int), minlength=11)[1:].tolist())
    return {key: np.asarray(value) for key, value in rows.items()}


def command_fit(args: argparse.Namespace) -> None:
    samples = load_samples(Path(args.work))
    extra = derived(samples)
    rng = np.random.default_rng(0)
    w = samples["w"].astype(np.float32)
    found = samples["faces"] >= 1
    print(f"{len(w)} samples, {int(found.sum())} with a face, {len(clean(samples, extra))} clean")
    print("Monk steps of clean faces:",
          np.bincount(extra["monk"][clean(samples, extra)], minlength=11)[1:].tolist())
    ita_dir, ita_slope = fit_direction(w[found], extra["ita"][found])
    directions = {"ita": (ita_dir, ita_slope)}
    print(f"direction ita: slope {ita_slope:.3f} per unit w")
    for name, target in (("age", samples["age"]), ("male", samples["male"]),
                         ("smile", samples["smile"]), ("glasses", samples["glasses"])):
        direction, slope = fit_direction(w[found], target[found])
        orthogonal = orthogonalise(direction, [ita_dir])
        # What a push along the orthogonalised direction buys: the part of the slope it keeps.
        slope = slope * float(direction @ orthogonal)
        directions[name] = (orthogonal, slope)
        print(f"direction {name}: slope {slope:.3f} per unit w, "
              f"cosine with ita {float(direction @ ita_dir):+.2f}")
    bank = choose_bank(samples, extra, rng)
    print("bank per Monk step:", np.bincount(extra["monk"][bank], minlength=11)[1:].tolist())
    hair = [measure_hair_name(samples["hair_lab"][i], samples["cheek"][i]) for i in bank]
    eyes = [measure_eye_name(samples["iris_lab"][i]) for i in bank]
    dark = extend_dark(samples, extra, ita_dir) if args.extend_dark else None

    def column(sampled: np.ndarray, key: str) -> np.ndarray:
        return sampled if dark is None or not len(dark["w"]) else np.concatenate(
            [sampled, dark[key].astype(sampled.dtype)])

    monk = column(extra["monk"][bank], "monk")
    print("final bank per Monk step:", np.bincount(monk, minlength=11)[1:].tolist())
    out = DATA_DIR / "steering.npz"
    np.savez_compressed(
        out,
        bank_w=column(w[bank], "w").astype(np.float16),
        bank_seed=column(samples["seed"][bank], "seed").astype(np.int32),
        bank_monk=monk.astype(np.int8),
        bank_ita=column(extra["ita"][bank], "ita").astype(np.float16),
        bank_age=column(samples["age"][bank], "age").astype(np.int16),
        bank_male=column(samples["male"][bank], "male").astype(np.int8),
        bank_gender_confidence=column(samples["confidence"][bank], "confidence").astype(np.int8),
        bank_smile=column(samples["smile"][bank], "smile").astype(np.float16),
        bank_glasses=column(samples["glasses"][bank], "glasses").astype(np.float16),
        bank_hair=column(np.array(hair), "hair"),
        bank_eyes=column(np.array(eyes), "eyes"),
        **{f"direction_{name}": d for name, (d, _) in directions.items()},
        **{f"slope_{name}": np.float32(s) for name, (_, s) in directions.items()},
    )
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")


def measure_hair_name(lab: np.ndarray, cheek: np.ndarray) -> str:
    if np.isnan(lab).any() or np.isnan(cheek).any():
        return ""
    return measure.hair_name(lab, measure.linear_to_lab(cheek)) or ""


def measure_eye_name(lab: np.ndarray) -> str:
    return "" if np.isnan(lab).any() else measure.eye_name(lab)


def command_sheet(args: argparse.Namespace) -> None:
    """Contact sheets: samples sorted by one measurement, 10 per row with the value printed."""
    samples = load_samples(Path(args.work))
    extra = derived(samples)
    values = {**{k: v for k, v in samples.items() if v.ndim == 1}, **extra}
    key = values[args.key].astype(np.float64)
    order = [i for i in np.argsort(key) if not np.isnan(key[i])]
    if args.only_clean:
        keep = set(clean(samples, extra).tolist())
        order = [i for i in order if i in keep]
    picks = np.linspace(0, len(order) - 1, min(args.count, len(order))).astype(int)
    tiles = []
    for i in (order[p] for p in picks):
        tile = cv2.resize(samples["thumb"][i], (160, 160), interpolation=cv2.INTER_AREA)
        label = f"{samples['seed'][i]} {args.key}={key[i]:.2f}"
        cv2.putText(tile, label, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 0), 1)
        tiles.append(tile)
    while len(tiles) % 10:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[r:r + 10], axis=1) for r in range(0, len(tiles), 10)]
    cv2.imwrite(args.out, cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample")
    sample.add_argument("--count", type=int, default=2400)
    sample.add_argument("--work", default="/tmp/stylegan_fit")
    sample.set_defaults(run=command_sample)
    fit = commands.add_parser("fit")
    fit.add_argument("--work", default="/tmp/stylegan_fit")
    fit.add_argument("--extend-dark", action="store_true")
    fit.set_defaults(run=command_fit)
    sheet = commands.add_parser("sheet")
    sheet.add_argument("key")
    sheet.add_argument("--work", default="/tmp/stylegan_fit")
    sheet.add_argument("--count", type=int, default=60)
    sheet.add_argument("--only-clean", action="store_true")
    sheet.add_argument("--out", default="/tmp/sheet.png")
    sheet.set_defaults(run=command_sheet)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
