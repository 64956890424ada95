"""One active-learning round on the demo, through the real workflow: uncertain vs stratified.

In a temporary copy of the project, snakemake trains one experiment on the demo corpus,
detects on a held-out season (tapes synthesised like the demo's, from another seed, so
their calls are known but they are in neither the corpus nor the benchmark) with a low
threshold (per class, the score that a tenth of the season's windows reach: the model's
floor lies above any fixed low number), so that the pool of detections is several times
larger than a review, and
draws two review samples of `--clips` clips per class: `uncertain` and `stratified`. A
simulated reviewer answers from the known calls (yes: the detection overlaps a call of
its class; no, corrected to the other class: it overlaps only a call of that class; no:
it overlaps no call) and saves the verdicts in each review's verdict folder. Then one
dataset variant per strategy (`datasets.NAME.reviewed: [REVIEW]`) is trained and
benchmarked beside the first.

    PYTHONPATH=src python bench/active_learning.py [--experiment default.mel64.band_mlp]
        [--clips 100] [--seed 0] [--window-share 0.1] [--quick] [--keep DIR]

Prints the detection pool per class, per strategy the sample's verdicts (confirmed,
rejected, corrected) and mean |score - threshold|, the clips both samples share, the
benchmark F1 before and after retraining (results/leaderboard.csv, with the paired
difference of results/comparison.csv) and where the time went (per rule, from the rules'
benchmark files). Where this checkout's config schema has no `datasets.NAME.reviewed`,
it stops after the verdicts and says so.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sonoflow.corpus.audio import write_wav
from sonoflow.corpus.demo import SITES, DemoSettings, synthesize_tape

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
STRATEGIES = ("uncertain", "stratified")
DETECT = "season"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--experiment",
        default="default.mel64.band_mlp",
        help="dataset.features.model, each a name in config.yaml",
    )
    parser.add_argument(
        "--clips",
        type=int,
        default=None,
        help="clips per class in each review sample (100; --quick: 20)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the season and samples")
    parser.add_argument(
        "--window-share",
        type=float,
        default=0.1,
        help="the detect threshold of a class: the score this share of the season's windows reach",
    )
    parser.add_argument(
        "--recordings",
        type=int,
        default=None,
        help="season recordings per site, 4 sites (8 of 120 s; --quick: 3 of 60 s)",
    )
    parser.add_argument(
        "--uncertainty",
        choices=["spread", "margin"],
        default="spread",
        help="how the uncertain sample ranks detections (review.NAME.uncertainty)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 folds, a small season, small samples: to try (a smaller demo trains no model)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="run in this folder and keep it, reusing what an earlier run left there"
        " (default: a temporary folder)",
    )
    args = parser.parse_args()
    args.clips = args.clips or (20 if args.quick else 100)
    args.recordings = args.recordings or (3 if args.quick else 8)
    args.duration_s = 60.0 if args.quick else 120.0
    return args


def project_config(args: argparse.Namespace, season: Path) -> dict:
    """config.yaml cut down to the one experiment, with the detect run and both reviews."""
    base = yaml.safe_load((ROOT / "config.yaml").read_text())
    dataset, features, model = args.experiment.split(".")
    config = copy.deepcopy(base)
    try:
        config["datasets"] = {dataset: base["datasets"][dataset]}
        config["features"] = {features: base["features"][features]}
        config["models"] = {model: base["models"][model]}
    except KeyError as missing:
        raise SystemExit(
            f"--experiment {args.experiment}: {missing} is not in config.yaml"
        ) from None
    config["experiments"] = [{"dataset": dataset, "features": features, "model": model}]
    if args.quick:
        config["cv"] = {**config.get("cv", {}), "folds": 2}
    config["detect"] = {
        DETECT: {
            "recordings": str(season),
            "experiment": args.experiment,
            "threshold": "best",  # replaced by low_thresholds once the season is scored
        }
    }
    config["review"] = {
        review_name(s): {"detect": DETECT, "strategy": s, "size": args.clips, "seed": args.seed}
        for s in STRATEGIES
    }
    config["review"][review_name("uncertain")]["uncertainty"] = args.uncertainty
    return config


def review_name(strategy: str) -> str:
    return f"al_{strategy}"


def retrained_config(config: dict, args: argparse.Namespace) -> tuple[dict, dict[str, str]]:
    """The config plus one dataset variant and experiment per strategy, trained on the
    base variant and that review's verdicts; strategy -> experiment id."""
    config = copy.deepcopy(config)
    dataset, features, model = args.experiment.split(".")
    experiments = {}
    for strategy in STRATEGIES:
        name = f"{dataset}_{strategy}"
        config["datasets"][name] = {
            **config["datasets"][dataset],
            "reviewed": [review_name(strategy)],
        }
        config["experiments"].append({"dataset": name, "features": features, "model": model})
        experiments[strategy] = f"{name}.{features}.{model}"
    return config, experiments


def schema_has_reviewed() -> bool:
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    variant = schema["properties"]["datasets"]["additionalProperties"]
    return "reviewed" in variant.get("properties", {})


def write_season(folder: Path, args: argparse.Namespace) -> pd.DataFrame:
    """Demo-like tapes in one folder per site; their calls (recording, label, start_s, end_s)
    with recording named as detect names it (relative path, no suffix)."""
    settings = DemoSettings(seed=1000 + args.seed)
    rng = np.random.default_rng(settings.seed)
    calls = []
    for site in SITES:
        for r in range(args.recordings):
            recording = f"{site}/20240501_{4 + r:02d}0000"
            audio, truth = synthesize_tape(args.duration_s, settings, rng)
            path = folder / f"{recording}.wav"
            if not path.exists():  # the same seed writes the same file: --keep reuses a run
                write_wav(path, audio, settings.sample_rate)
            calls.append(truth[["label", "start_s", "end_s"]].assign(recording=recording))
    return pd.concat(calls, ignore_index=True)


def overlapped_label(rows: pd.DataFrame, calls: pd.DataFrame, same: bool) -> pd.Series:
    """Per detection, the label of a call it overlaps (of its own class when `same`, of
    another otherwise), or ""."""
    found = []
    for row in rows.itertuples():
        here = calls[
            (calls["recording"] == row.recording)
            & (calls["start_s"] < row.end_s)
            & (calls["end_s"] > row.start_s)
        ]
        here = here[(here["label"] == row.label) == same]
        found.append(here["label"].iloc[0] if len(here) else "")
    return pd.Series(found, index=rows.index, dtype=object)


def simulated_verdicts(sample: pd.DataFrame, calls: pd.DataFrame) -> pd.DataFrame:
    """The sample as the review page exports it, with the answers of a reviewer who knows
    the calls."""
    rows = sample.assign(
        label=sample["class"],
        start_s=sample["start_s"].astype(float),
        end_s=sample["end_s"].astype(float),
    )
    right = overlapped_label(rows, calls, same=True) != ""
    other = overlapped_label(rows, calls, same=False)
    return sample.assign(
        verdict=np.where(right, "yes", "no"), corrected_class=np.where(right, "", other)
    )


def snakemake(project: Path, targets: list[str], log: str) -> float:
    """Runs snakemake on `targets`, its output in logs/bench_LOG.txt; seconds taken."""
    path = project / "logs" / f"bench_{log}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with path.open("w") as out:
        done = subprocess.run(
            [SNAKEMAKE, "--profile", "profiles/local", "--cores", "2", *targets],
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        tail = "\n".join(path.read_text().splitlines()[-40:])
        raise SystemExit(f"snakemake {' '.join(targets)} failed ({path}):\n{tail}")
    return time.perf_counter() - start


def copy_project(project: Path, config: dict) -> None:
    for name in ("Snakefile", "workflow", "profiles", "envs"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                project / name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copy2(source, project / name)
    write_config(project, config)


def write_config(project: Path, config: dict) -> None:
    (project / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def timed(project: Path, targets: list[str]) -> tuple[float, pd.Series]:
    """snakemake on `targets`: its wall seconds and the seconds of each rule it ran."""
    since = time.time()
    wall = snakemake(project, targets, f"{since:.0f}")
    return wall, seconds_per_rule(project, since)


def seconds_per_rule(project: Path, since: float) -> pd.Series:
    """Wall seconds per rule, summed over the benchmark files its jobs wrote after `since`."""
    totals = {}
    for tsv in (project / "benchmarks").glob("*/*.tsv"):
        if tsv.stat().st_mtime < since:
            continue
        seconds = pd.read_csv(tsv, sep="\t")["s"].sum()
        totals[tsv.parent.name] = totals.get(tsv.parent.name, 0.0) + seconds
    return pd.Series(totals, dtype=float).sort_values(ascending=False)


def low_thresholds(project: Path, labels: list[str], share: float) -> dict[str, float]:
    """Per class the score that `share` of the season's windows reach."""
    shards = sorted((project / f"results/detect/{DETECT}/scores").glob("shard*.parquet"))
    scores = pd.concat(pd.read_parquet(path, columns=labels) for path in shards)
    return {label: round(float(scores[label].quantile(1 - share)), 4) for label in labels}


def print_pool(project: Path, calls: pd.DataFrame, minutes: float, clips: int) -> dict:
    detections = pd.read_csv(project / f"results/detect/{DETECT}/detections.csv")
    thresholds = json.loads((project / f"results/detect/{DETECT}/thresholds.json").read_text())
    correct = overlapped_label(detections, calls, same=True) != ""
    print(
        f"\nseason: {calls['recording'].nunique()} recordings, {minutes:.0f} min, "
        f"{len(calls)} calls {calls['label'].value_counts().to_dict()}"
    )
    print(f"detection pool (threshold {thresholds}):")
    for label, rows in detections.groupby("label"):
        print(
            f"  {label:8s} {len(rows):5d} detections, {int(correct[rows.index].sum()):5d} "
            f"overlap a {label}"
        )
    small = detections["label"].value_counts()
    small = small[small < 3 * clips]
    if len(small):
        print(
            f"  NOTE: fewer than 3 x {clips} detections for {small.to_dict()}: the strategies"
            " cannot pick very different clips (--recordings, --window-share)"
        )
    return thresholds


def print_samples(samples: dict[str, pd.DataFrame], thresholds: dict[str, float]) -> None:
    print("\nreview samples (simulated verdicts):")
    print(
        f"  {'strategy':10s} {'class':8s} {'clips':>5s} {'yes':>4s} {'no':>4s} "
        f"{'corrected':>9s} {'mean |score-thr|':>16s}"
    )
    for strategy, table in samples.items():
        table = table.assign(
            margin=(table["score"].astype(float) - table["class"].map(thresholds)).abs()
        )
        for label, rows in [*table.groupby("class"), ("all", table)]:
            print(
                f"  {strategy:10s} {label:8s} {len(rows):5d} {(rows['verdict'] == 'yes').sum():4d} "
                f"{(rows['verdict'] == 'no').sum():4d} {(rows['corrected_class'] != '').sum():9d} "
                f"{rows['margin'].mean():16.3f}"
            )
    shared = set.intersection(*(set(t["id"]) for t in samples.values()))
    print(f"  clips in both samples: {len(shared)}")


def print_scores(project: Path, experiments: dict[str, str]) -> None:
    board = pd.read_csv(project / "results/leaderboard.csv").set_index("experiment")
    comparison = pd.read_csv(project / "results/comparison.csv")
    base = experiments["before"]
    print("\nbenchmark (results/leaderboard.csv, results/comparison.csv):")
    print(
        f"  {'':10s} {'experiment':32s} {'f1':>6s} {'95% interval':>15s} {'held_out_f1':>11s} "
        f"{'f1 - before [95%]':>26s}"
    )
    for key, experiment in experiments.items():
        row = board.loc[experiment]
        line = (
            f"  {key:10s} {experiment:32s} {row['f1']:6.3f} "
            f"[{row.get('f1_low', np.nan):5.3f}, {row.get('f1_high', np.nan):5.3f}] "
            f"{row.get('held_out_f1', np.nan):11.3f}"
        )
        pair = comparison[
            (comparison["experiment_a"] == experiment) & (comparison["experiment_b"] == base)
        ]
        if len(pair):
            p = pair.iloc[0]
            line += (
                f" {p['f1_difference']:+7.3f} [{p['f1_difference_low']:+.3f}, "
                f"{p['f1_difference_high']:+.3f}]"
            )
        print(line)


def print_reviewed_clips(project: Path, experiments: dict[str, str]) -> None:
    """What each retrained variant took from its review (stats.json's `reviewed`)."""
    print("reviewed clips in the retrained variants (stats.json):")
    for strategy, experiment in experiments.items():
        dataset = experiment.split(".")[0]
        stats = json.loads((project / f"results/datasets/{dataset}/stats.json").read_text())
        taken = stats.get("reviewed", {})
        print(
            f"  {strategy:10s} {dataset:20s} {taken.get('targets', 0):4d} targets, "
            f"{taken.get('rejected', 0):4d} hard negatives, {taken.get('recordings', 0)} recordings"
        )


def main() -> None:
    args = parse_args()
    project = args.keep or Path(tempfile.mkdtemp(prefix="sonoflow_al_"))
    project.mkdir(parents=True, exist_ok=True)
    config = project_config(args, project / "season")
    copy_project(project, config)
    calls = write_season(project / "season", args)
    print(
        f"project: {project}; experiment {args.experiment}, {args.clips} clips per class "
        f"and strategy, uncertainty {args.uncertainty}, seed {args.seed}"
        f"{', quick' if args.quick else ''}"
    )

    samples_csv = [f"results/review/{review_name(s)}/sample.csv" for s in STRATEGIES]
    scores = f"results/detect/{DETECT}/scores/shard0.parquet"
    phases = {"train, detect": timed(project, ["results/leaderboard.csv", scores])}
    labels = config["corpus"]["labels"]
    config["detect"][DETECT]["threshold"] = low_thresholds(project, labels, args.window_share)
    write_config(project, config)
    phases["collect, sample"] = timed(project, samples_csv)
    minutes = calls["recording"].nunique() * args.duration_s / 60
    thresholds = print_pool(project, calls, minutes, args.clips)
    samples = {}
    for strategy in STRATEGIES:
        sample = pd.read_csv(
            project / f"results/review/{review_name(strategy)}/sample.csv",
            dtype=str,
            keep_default_na=False,
        )
        samples[strategy] = simulated_verdicts(sample, calls)
        folder = project / "verdicts" / review_name(strategy)
        folder.mkdir(parents=True, exist_ok=True)
        samples[strategy].to_csv(folder / "sample.csv", index=False)
    print_samples(samples, thresholds)

    if not schema_has_reviewed():
        print_scores(project, {"before": args.experiment})
        print("\nretraining skipped: this checkout's schema has no datasets.NAME.reviewed")
    else:
        config, retrained = retrained_config(config, args)
        write_config(project, config)
        phases["retrain with verdicts"] = timed(project, ["results/leaderboard.csv"])
        print_scores(project, {"before": args.experiment, **retrained})
        print_reviewed_clips(project, retrained)

    print("\nwhere the time went (per rule: wall seconds summed over its jobs):")
    for phase, (wall, per_rule) in phases.items():
        print(f"  {phase}: {wall:.0f} s; " + ", ".join(f"{r} {s:.0f}" for r, s in per_rule.items()))
    if args.keep is None:
        shutil.rmtree(project)


if __name__ == "__main__":
    main()
