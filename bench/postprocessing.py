"""What each post-processing step does to events, from a finished run's stored scores.

Reads the window scores of `results/predictions/{experiment}/{benchmark}/` and the
benchmark's Raven tables, then evaluates them again (no GPU, nothing rewritten) step by
step: none (threshold only), a median filter alone, hysteresis alone, hysteresis with
boundary refinement, and all the defaults. Settings come from the run's config.yaml, with
the schema defaults for keys it lacks.

    PYTHONPATH=src python bench/postprocessing.py --run . \\
        [--experiment default.mel64.resnet18] [--benchmark demo] [--grid]

Prints per step and threshold (all classes): IoU F1, collar F1, false positives, events per
reference call, and mean onset and offset errors (ms) of IoU-matched pairs; then per step
the average precision and best F1 over the sweep, and fp_rise: how many false positives
appear, summed over steps up, from threshold 0.3 to 0.95. `--grid` also prints best IoU and collar
F1 for a grid of median spans and lower-threshold ratios, to choose defaults.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pandas as pd
import yaml

from sonoflow.common.schema import section_with_defaults
from sonoflow.evaluation.benchmark import ALL, evaluate_scores
from sonoflow.evaluation.ground_truth import ground_truth_settings, read_ground_truth

THRESHOLDS = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95]
NOTHING = {
    "median_filter_s": 0.0,
    "threshold_low": None,
    "threshold_low_ratio": 1.0,
    "refine_boundaries": False,
    "merge_gap_s": 0.0,
    "min_duration_s": 0.0,
    "max_duration_s": None,
}
MEDIAN_S = 0.3  # the median step's span when the defaults have none


def steps(defaults: dict) -> dict[str, dict]:
    """Each step's settings over NOTHING: one step at a time, then all the defaults."""
    low = {k: defaults[k] for k in ("threshold_low", "threshold_low_ratio")}
    return {
        "none": {},
        f"median {defaults['median_filter_s'] or MEDIAN_S} s": {
            "median_filter_s": defaults["median_filter_s"] or MEDIAN_S
        },
        "hysteresis": low,
        "hysteresis+refinement": {**low, "refine_boundaries": True},
        "defaults": {k: defaults[k] for k in NOTHING},
    }


def load_run(run: Path, experiment: str, benchmark: str):
    config = yaml.safe_load((run / "config.yaml").read_text())
    evaluation = section_with_defaults("evaluation", config.get("evaluation", {}))
    hop_s = config["benchmarks"][benchmark]["hop_s"]
    scores = pd.concat(
        [
            pd.read_parquet(p)
            for p in sorted(
                (run / "results/predictions" / experiment / benchmark).glob("*.parquet")
            )
        ],
        ignore_index=True,
    )
    bench = section_with_defaults("benchmark", config["benchmarks"][benchmark])
    corpus = section_with_defaults("corpus", config.get("corpus", {}))
    if bench["recordings"] == "demo":
        folders = (
            run / "results/demo_corpus/benchmark/audio",
            run / "results/demo_corpus/benchmark/annotations",
        )
    else:
        folders = bench["recordings"], bench["annotations"]
    settings = ground_truth_settings(benchmark, bench, corpus)
    truth = read_ground_truth(*folders, settings).annotations
    labels = corpus["labels"]
    return scores, truth, labels, {**evaluation, "hop_s": hop_s}


def evaluate(scores, truth, labels, settings) -> pd.DataFrame:
    settings = {**settings, "thresholds": THRESHOLDS, "sweep_steps": 20}
    metrics = evaluate_scores(scores, truth, labels, settings).metrics
    return metrics[metrics["class"] == ALL].set_index("threshold")


def print_steps(scores, truth, labels, defaults) -> None:
    print(
        "post-processing:",
        {k: defaults[k] for k in NOTHING},
        f"| min_iou {defaults['min_iou']}, collar {defaults['collar_s']} s",
    )
    summary = []
    for step, settings in steps(defaults).items():
        overall = evaluate(scores, truth, labels, {**defaults, **NOTHING, **settings})
        table = overall.loc[THRESHOLDS]
        print(f"\n{step}")
        print(
            pd.DataFrame(
                {
                    "iou_f1": table["iou_f1"],
                    "collar_f1": table["collar_f1"],
                    "fp": table["iou_fp"],
                    "events_per_call": table["n_detected"] / table["n_reference"],
                    "onset_ms": table["onset_error_ms"],
                    "offset_ms": table["offset_error_ms"],
                }
            ).to_string(float_format="%.3f")
        )
        summary.append(
            {
                "step": step,
                "average_precision": overall["average_precision"].iloc[0],
                "best_iou_f1": overall["iou_f1"].max(),
                "best_collar_f1": overall["collar_f1"].max(),
                "fp_rise": int((overall.loc[THRESHOLDS, "iou_fp"].diff().clip(lower=0)).sum()),
            }
        )
    print("\nover the sweep (0, 0.05, ..., 1)")
    print(pd.DataFrame(summary).to_string(index=False, float_format="%.3f"))


def print_grid(scores, truth, labels, defaults) -> None:
    rows = []
    for median, ratio, refine in itertools.product(
        [0.0, 0.2, 0.3, 0.5, 0.7], [1.0, 0.7, 0.5, 0.3], [False, True]
    ):
        settings = {
            **defaults,
            **NOTHING,
            "median_filter_s": median,
            "threshold_low_ratio": ratio,
            "refine_boundaries": refine,
        }
        overall = evaluate(scores, truth, labels, settings)
        rows.append(
            {
                "median_s": median,
                "low_ratio": ratio,
                "refine": refine,
                "best_iou_f1": overall["iou_f1"].max(),
                "best_collar_f1": overall["collar_f1"].max(),
                "iou_f1_at_0.5": overall.loc[0.5, "iou_f1"],
                "collar_f1_at_0.5": overall.loc[0.5, "collar_f1"],
                "fp_rise": int((overall.loc[THRESHOLDS, "iou_fp"].diff().clip(lower=0)).sum()),
            }
        )
    print("\ngrid")
    print(pd.DataFrame(rows).to_string(index=False, float_format="%.3f"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=Path("."), help="a finished run's folder")
    parser.add_argument("--experiment", default="default.mel64.resnet18")
    parser.add_argument("--benchmark", default="demo")
    parser.add_argument("--grid", action="store_true")
    args = parser.parse_args()
    scores, truth, labels, defaults = load_run(args.run, args.experiment, args.benchmark)
    print(
        f"{args.experiment} / {args.benchmark}: {len(truth)} reference calls, {len(scores)} windows"
    )
    print_steps(scores, truth, labels, defaults)
    if args.grid:
        print_grid(scores, truth, labels, defaults)


if __name__ == "__main__":
    main()
