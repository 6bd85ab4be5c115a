"""Fit the offline generator's steering data from measured samples of MobileStyleGAN.

Stages, each seeded and reproducible:

``sample``  draws seeds 0..N-1 (z from the seed; truncation psi 1.0 for two seeds in three,
            0.75 for the rest, since only psi near 1 reaches dark skin tones), synthesises each
            face, runs the face mesh, and records the style w, the landmarks, every raw
            measurement (cheek and sclera colour, smile, glasses, hair and iris colour, age and
            gender) and a 256 px thumbnail. Results go in chunks of 100 under --work, so an
            interrupted run resumes where it stopped. About 0.4 s a face on 2 cores.
``fit``     reads the chunks and writes ``worker/generate/data/steering.npz``: a bank of clean
            adult latents (float16) with their measured attributes, covering every Monk step
            (faces measured darker than step 4 only where a person's label agrees), and
            covariance directions in w for skin tone, age, gender, smile and glasses.
``sample-dark`` draws candidate seeds from 1 000 000 on, keeps the 100 of each 4000 whose w a
            ridge regression scores darkest, and samples those like ``sample`` (psi 1.0).
``label-sheets`` writes numbered contact sheets of the faces whose measured tone needs a
            person's eye; their labels go in ``scripts/skin_tone_labels.txt``.
``fit-colour`` adds to ``steering.npz`` a ridge regression from w to the measured hair, iris
            and cheek L*a*b* and the sclera's L* (10 outputs; the generator pushes a face's
            predicted hair and iris colours to the asked ones and holds the cheek and sclera,
            so the skin and the light stay): held-out correlation r = 0.68 / 0.67 / 0.64
            for hair L*, a*, b*, 0.87 / 0.82 / 0.83 for the iris, 0.93 / 0.90 / 0.88 for the
            cheek and 0.85 for the sclera (80/20 split of the faces found, ridge 100).
``sheet``   writes contact sheets (PNG) of the samples sorted by one measurement, to name and
            check directions and thresholds by eye.

    python scripts/fit_stylegan_directions.py sample --count 2400 --work /tmp/stylegan_fit
    python scripts/fit_stylegan_directions.py sample-dark --blocks 20 --work /tmp/stylegan_fit
    python scripts/fit_stylegan_directions.py label-sheets --work /tmp/stylegan_fit
    python scripts/fit_stylegan_directions.py fit --work /tmp/stylegan_fit
    python scripts/fit_stylegan_directions.py fit-colour --work /tmp/stylegan_fit
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
from worker.generate.gate import DEFAULT_LIMITS  # noqa: E402
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


def sample_chunk(start: int, mesh, seeds: list[int] | None = None,
                 psi: float | None = None) -> dict[str, np.ndarray]:
    """Synthesise and measure seeds ``start .. start + CHUNK - 1`` (or the given ``seeds``)."""
    nets = networks()
    rows: dict[str, list] = {key: [] for key in (
        "seed", "psi", "w", "faces", "landmarks", "cheek", "sclera", "smile", "glasses",
        "hair_lab", "iris_lab", "age", "male", "confidence", "thumb")}
    fixed_psi = psi
    for seed in seeds if seeds is not None else range(start, start + CHUNK):
        psi = psi_for(seed) if fixed_psi is None else fixed_psi
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


# Dark-targeted sampling: candidate seeds from here on, mapped to w (0.1 ms each) and scored
# by a ridge regression of the measured ITA on w; only the lowest-scoring DARK_KEEP of each
# block of DARK_BLOCK are synthesised (about 1 s each). FFHQ holds about 3% dark faces at
# psi 1.0; the regression (r = 0.72 on held-out samples) concentrates them.
DARK_SEED_BASE = 1_000_000
DARK_BLOCK = 4000
DARK_KEEP = CHUNK


def ita_predictor(samples: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression (lambda 30) of the measured ITA on w: (mean w, weights)."""
    extra = derived(samples)
    keep = ~np.isnan(extra["ita"])
    w = samples["w"][keep].astype(np.float64)
    mean = w.mean(axis=0)
    x = w - mean
    y = extra["ita"][keep] - extra["ita"][keep].mean()
    return mean, np.linalg.solve(x.T @ x + 30.0 * np.eye(x.shape[1]), x.T @ y)


def command_sample_dark(args: argparse.Namespace) -> None:
    work = Path(args.work)
    mean, weights = ita_predictor(load_samples(work, "chunk_*.npz"))
    nets = networks()
    mesh = _face_mesh()
    for block in range(args.blocks):
        path = work / f"dark_{block:04d}.npz"
        if path.exists():
            continue
        began = time.perf_counter()
        first = DARK_SEED_BASE + block * DARK_BLOCK
        seeds = np.arange(first, first + DARK_BLOCK)
        scores = np.array([float((nets.style(z_for(int(s)), 1.0)[0] - mean) @ weights)
                           for s in seeds])
        chosen = sorted(int(s) for s in seeds[np.argsort(scores)[:DARK_KEEP]])
        chunk = sample_chunk(0, mesh, seeds=chosen, psi=1.0)
        np.savez_compressed(work / "partial.npz", **chunk)
        (work / "partial.npz").rename(path)
        seconds = time.perf_counter() - began
        print(f"dark block {block + 1}/{args.blocks}, {seconds / DARK_KEEP * 1000:.0f} ms a face",
              flush=True)


def load_samples(work: Path, pattern: str = "*_*.npz") -> dict[str, np.ndarray]:
    """Every sampled chunk under ``work`` (plain ``chunk_*`` and dark-targeted ``dark_*``)."""
    chunks = [np.load(path) for path in sorted(work.glob(pattern))
              if path.name.startswith(("chunk_", "dark_"))]
    return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0].files}


# The bank keeps faces the runtime gate would pass with room to spare.
BANK_MIN_AGE = 23
BANK_PER_STEP = 90
MAX_ABS_YAW, MAX_ABS_PITCH = 20.0, 20.0


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


LABELS = Path(__file__).resolve().parent / "skin_tone_labels.txt"
# The Monk steps a face labelled by eye may take in the bank: its group, or one step beyond
# (the groups' edges are a matter of judgement).
LABEL_STEPS = {"light": range(1, 5), "medium": range(3, 7), "brown": range(5, 9),
               "dark": range(7, 11), "reject": range(0)}
# Unlabelled faces are trusted up to this measured step: above it, light faces in dim or warm
# light measured as brown or dark (seen on the contact sheets), so only labelled faces count.
UNLABELLED_MAX_STEP = 4


def load_labels(path: Path = LABELS) -> dict[int, str]:
    """Seed -> tone group, from the by-eye labels file."""
    labels = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            seed, group = line.split()
            labels[int(seed)] = group
    return labels


def trusted_tone(samples: dict[str, np.ndarray], extra: dict[str, np.ndarray],
                 labels: dict[int, str]) -> np.ndarray:
    """Whether each sample's measured Monk step agrees with what a person saw: labelled faces
    whose step fits their group, unlabelled faces only where they measured light."""
    trusted = np.zeros(len(samples["seed"]), bool)
    for i, (seed, step) in enumerate(zip(samples["seed"], extra["monk"], strict=True)):
        group = labels.get(int(seed))
        trusted[i] = (step in LABEL_STEPS[group]) if group else 1 <= step <= UNLABELLED_MAX_STEP
    return trusted


def choose_bank(samples: dict[str, np.ndarray], extra: dict[str, np.ndarray],
                rng: np.random.Generator, labels: dict[int, str]) -> np.ndarray:
    """Up to BANK_PER_STEP clean faces per Monk step whose tone a person would agree with,
    alternating gender so both are kept."""
    good = clean(samples, extra)
    good = good[trusted_tone(samples, extra, labels)[good]]
    chosen: list[int] = []
    for step in range(1, 11):
        members = good[extra["monk"][good] == step]
        by_gender = [rng.permutation(members[samples["male"][members] == flag]) for flag in (0, 1)]
        picked: list[int] = []
        for pair in zip(*by_gender, strict=False):
            picked.extend(pair)
        longer = max(by_gender, key=len)
        picked.extend(longer[len(picked) // 2:])
        chosen.extend(picked[:BANK_PER_STEP])
    return np.asarray(chosen, int)


def report_calibration(samples: dict[str, np.ndarray], extra: dict[str, np.ndarray],
                       labels: dict[int, str]) -> None:
    """Print the median ITA of each by-eye group over labelled clean faces (unlabelled clean
    faces measured at most UNLABELLED_MAX_STEP count as light): the anchors of
    ``measure.FACE_ITA_ANCHORS``; and how often the Monk step falls in the labelled group."""
    good = clean(samples, extra)
    groups = np.array([labels.get(int(samples["seed"][i]),
                                  "light" if extra["monk"][i] <= UNLABELLED_MAX_STEP else "")
                       for i in good])
    for group in ("dark", "brown", "medium", "light"):
        ita = extra["ita"][good][groups == group]
        steps = extra["monk"][good][groups == group]
        inside = np.isin(steps, {"light": [1, 2, 3], "medium": [4, 5], "brown": [6, 7],
                                 "dark": [8, 9, 10]}[group])
        print(f"{group}: {len(ita)} faces, median ITA {np.median(ita):.1f}, "
              f"Monk step in the group's range {inside.mean():.0%}")


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
    labels = load_labels()
    report_calibration(samples, extra, labels)
    bank = choose_bank(samples, extra, rng, labels)
    monk = extra["monk"][bank]
    print("bank per Monk step:", np.bincount(monk, minlength=11)[1:].tolist())
    hair = [measure_hair_name(samples["hair_lab"][i], samples["cheek"][i]) for i in bank]
    eyes = [measure_eye_name(samples["iris_lab"][i]) for i in bank]
    out = DATA_DIR / "steering.npz"
    np.savez_compressed(
        out,
        bank_w=w[bank].astype(np.float16),
        bank_seed=samples["seed"][bank].astype(np.int32),
        bank_monk=monk.astype(np.int8),
        bank_ita=extra["ita"][bank].astype(np.float16),
        bank_age=samples["age"][bank].astype(np.int16),
        bank_male=samples["male"][bank].astype(np.int8),
        bank_gender_confidence=samples["confidence"][bank].astype(np.int8),
        bank_smile=samples["smile"][bank].astype(np.float16),
        bank_glasses=samples["glasses"][bank].astype(np.float16),
        bank_hair=np.array(hair),
        bank_eyes=np.array(eyes),
        **{f"direction_{name}": d for name, (d, _) in directions.items()},
        **{f"slope_{name}": np.float32(s) for name, (_, s) in directions.items()},
    )
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")


# Ridge penalty of the colour regression, picked on a held-out fifth (1, 10, 100, 1000 tried:
# 100 predicted best, for hair and iris alike).
COLOUR_RIDGE = 100.0


def command_fit_colour(args: argparse.Namespace) -> None:
    """Adds ``colour_*`` arrays to the shipped steering data (the bank is left as it is)."""
    samples = load_samples(Path(args.work))
    cheek = measure.linear_to_lab(np.nan_to_num(samples["cheek"], nan=-1.0))
    sclera = measure.linear_to_lab(np.nan_to_num(samples["sclera"], nan=-1.0))
    colour = np.concatenate([samples["hair_lab"], samples["iris_lab"], cheek, sclera[:, :1]],
                            axis=1)
    missing = np.isnan(samples["cheek"]).any(axis=1) | np.isnan(samples["sclera"]).any(axis=1)
    colour[missing] = np.nan
    keep = (samples["faces"] == 1) & ~np.isnan(colour).any(axis=1)
    w = samples["w"].reshape(len(keep), -1)[keep].astype(np.float64)
    y = colour[keep].astype(np.float64)
    order = np.random.default_rng(0).permutation(len(w))
    held = order[: len(w) // 5]
    train = order[len(w) // 5:]

    def ridge(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        centre, offset = w[rows].mean(axis=0), y[rows].mean(axis=0)
        x = w[rows] - centre
        weights = np.linalg.solve(x.T @ x + COLOUR_RIDGE * np.eye(x.shape[1]),
                                  x.T @ (y[rows] - offset))
        return centre, weights, offset

    centre, weights, offset = ridge(train)
    predicted = (w[held] - centre) @ weights + offset
    names = ("hair L", "hair a", "hair b", "iris L", "iris a", "iris b", "cheek L", "cheek a",
             "cheek b", "sclera L")
    print(f"{len(w)} faces; held-out r: " + ", ".join(
        f"{name} {np.corrcoef(predicted[:, j], y[held, j])[0, 1]:.2f}"
        for j, name in enumerate(names)))
    centre, weights, offset = ridge(np.arange(len(w)))
    out = DATA_DIR / "steering.npz"
    data = dict(np.load(out))
    data.update(colour_centre=centre.astype(np.float32), colour_weights=weights.astype(np.float32),
                colour_offset=offset.astype(np.float32))
    np.savez_compressed(out, **data)
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


def command_label_sheets(args: argparse.Namespace) -> None:
    """Contact sheets of the clean faces that need a person's eye (measured darker than
    UNLABELLED_MAX_STEP, or with --bank the bank's unlabelled faces; not yet in the labels
    file), 100 a sheet, numbered, sorted by ITA; and
    ``seeds.txt`` listing each number's seed. Label a sheet by typing one letter a face (l, m,
    b, d for light, medium, brown, dark; x for a face the bank should not hold: a child the
    age model missed, a distorted or occluded face) and append "seed group" lines to the
    labels file."""
    samples = load_samples(Path(args.work))
    extra = derived(samples)
    labels = load_labels()
    good = clean(samples, extra)
    if args.bank:
        # The unlabelled faces the shipped bank holds (all measured light): a check that
        # none of them is a darker face in bright light.
        in_bank = set(np.load(DATA_DIR / "steering.npz")["bank_seed"].tolist())
        wanted = [int(seed) in in_bank for seed in samples["seed"]]
    else:
        wanted = extra["monk"] > UNLABELLED_MAX_STEP
    todo = [i for i in good[np.argsort(extra["ita"][good])]
            if wanted[i] and int(samples["seed"][i]) not in labels]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "seeds.txt").write_text("".join(f"{n} {samples['seed'][i]}\n"
                                           for n, i in enumerate(todo)))
    for sheet in range(0, len(todo), 100):
        tiles = []
        for n, i in enumerate(todo[sheet:sheet + 100], start=sheet):
            tile = cv2.resize(samples["thumb"][i], (110, 110), interpolation=cv2.INTER_AREA)
            cv2.putText(tile, str(n), (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 0), 1)
            tiles.append(tile)
        while len(tiles) % 10:
            tiles.append(np.zeros_like(tiles[0]))
        grid = np.concatenate([np.concatenate(tiles[r:r + 10], axis=1)
                               for r in range(0, len(tiles), 10)], axis=0)
        cv2.imwrite(str(out / f"sheet_{sheet // 100}.png"), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(f"{len(todo)} faces to label in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample")
    sample.add_argument("--count", type=int, default=2400)
    sample.add_argument("--work", default="/tmp/stylegan_fit")
    sample.set_defaults(run=command_sample)
    dark = commands.add_parser("sample-dark")
    dark.add_argument("--blocks", type=int, default=15)
    dark.add_argument("--work", default="/tmp/stylegan_fit")
    dark.set_defaults(run=command_sample_dark)
    fit = commands.add_parser("fit")
    fit.add_argument("--work", default="/tmp/stylegan_fit")
    fit.set_defaults(run=command_fit)
    fit_colour = commands.add_parser("fit-colour")
    fit_colour.add_argument("--work", default="/tmp/stylegan_fit")
    fit_colour.set_defaults(run=command_fit_colour)
    label = commands.add_parser("label-sheets")
    label.add_argument("--work", default="/tmp/stylegan_fit")
    label.add_argument("--out", default="/tmp/skin_label_sheets")
    label.add_argument("--bank", action="store_true",
                       help="sheet the unlabelled faces of the shipped bank instead")
    label.set_defaults(run=command_label_sheets)
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
