"""Start-up of training and prediction jobs: process start to first batch, as the jobs' own
logs report it (`start-up: N s from process start to first batch`), per job kind.

    PYTHONPATH=src python bench/job_startup.py [--rounds 2] [--workdir DIR]
        [--root ROOT [--root OTHER]] [--parts 1 2 3 4 5]

Five parts, each printed as a table:

1. imports: a fresh interpreter importing what each job script imports (the `from sonoflow`
   lines of workflow/scripts/train_fold.py and predict.py, plus torch and, for a CNN,
   timm as its model build does), wall seconds, median over `--rounds * 3` runs;
2. the `script:` preamble: what Snakemake's script directive adds to a `python -m` call
   (its preamble imports snakemake and unpickles the job's `snakemake` object), in seconds,
   median of as many runs of each, taking turns;
3. real jobs: the tiny demo (.test/config.yaml's corpus) with a spectrogram CNN (resnet10t)
   and a vector MLP (statistics front-end), 2 folds of 1 epoch and one prediction shard each,
   run by Snakemake in a copy of the project under `--workdir`; then `--rounds` reruns of
   every train_fold and predict job (`--forcerun`), the start-up each job's log reports;
4. the DAG: `snakemake --dry-run --until predict` in those projects (Snakefile parse, config
   validation, the DAG), wall seconds, taking turns as above;
5. each cost this bench's issue removed, before and after, in a fresh interpreter each
   (first calls pay for imports), taking turns: torch's AdamW against EagerAdamW (built,
   one step), librosa's mel filterbank against sonoflow's, the schema read with PyYAML's
   Python loader against libyaml's, and a timm backbone name checked by importing timm
   against reading timm's source (the DAG's check); seconds of the step alone.

`--root` is the project whose Snakefile, workflow and `src/` run (default: this checkout);
given twice (a checkout before a change and one after), parts 1 and 3 take turns between the
two, round by round, so that load from other processes falls on both alike: the ratios are
what to read on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parents[1]
STARTUP = re.compile(r"start-up: ([0-9.]+) s from process start")
EXPERIMENTS = {"cnn": "default.mel32.cnn", "vector MLP": "default.stats.mlp"}


def script_imports(root: Path, script: str) -> str:
    """The import lines of a job script, as one program (claim_gpu's call left out)."""
    lines = (root / "workflow/scripts" / script).read_text().splitlines()
    return "\n".join(line for line in lines if line.startswith(("from ", "import ")))


def import_programs(root: Path) -> dict[str, str]:
    train = script_imports(root, "train_fold.py") + "\nimport torch\n"
    predict = script_imports(root, "predict.py") + "\nimport torch\n"
    # What a CNN job's model build adds (timm with sonoflow's models registered).
    cnn = (
        "\nfrom sonoflow.models.build import timm_with_sonoflow_models\n"
        "timm_with_sonoflow_models()\n"
    )
    return {
        "train_fold, vector MLP": train,
        "train_fold, CNN": train + cnn,
        "predict, vector MLP": predict,
        "predict, CNN": predict + cnn,
    }


def wall_seconds(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def environment(root: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(root / "src")}


def print_table(title: str, rows: dict[str, list[float]]) -> None:
    print(f"\n{title}", flush=True)
    for name, values in rows.items():
        figures = " ".join(f"{v:.1f}" for v in values)
        print(f"  {name:<40} median {statistics.median(values):5.2f} s   ({figures})", flush=True)


def labelled(roots: list[Path], root: Path, name: str) -> str:
    return f"{name} [{roots.index(root) + 1}]" if len(roots) > 1 else name


def measure_imports(roots: list[Path], runs: int) -> None:
    rows: dict[str, list[float]] = {}
    for _ in range(runs):
        for root in roots:
            for name, code in import_programs(root).items():
                seconds = wall_seconds([sys.executable, "-c", code], environment(root))
                rows.setdefault(labelled(roots, root, name), []).append(seconds)
    print_table(
        "1. imports of the job scripts (fresh interpreter, wall seconds)",
        dict(sorted(rows.items())),
    )


# (before, after) programs of part 5; each prints the seconds of its step.
STEP = "import time\nstart = time.perf_counter()\n{}\nprint(time.perf_counter() - start)\n"
OPTIMISER = "import torch\nmodel = torch.nn.Linear(8, 2)\n"
STEP_OPTIMISER = (
    "optimizer = {}(model.parameters())\nmodel(torch.ones(3, 8)).sum().backward()\noptimizer.step()"
)
VARIANTS = {
    "optimiser built, one step": (
        OPTIMISER + STEP.format(STEP_OPTIMISER.format("torch.optim.AdamW")),
        OPTIMISER
        + "from sonoflow.training.schedule import EagerAdamW\n"
        + STEP.format(STEP_OPTIMISER.format("EagerAdamW")),
    ),
    "mel filterbank (64 x 257)": (
        STEP.format(
            "import librosa\nlibrosa.filters.mel(sr=16000, n_fft=512, n_mels=64, norm=None)"
        ),
        STEP.format(
            "from sonoflow.features.filterbanks import mel_filterbank\n"
            "mel_filterbank(16000, 512, 64, 0.0, 8000.0)"
        ),
    ),
    "config schema read": (
        "import yaml\n" + STEP.format("yaml.safe_load(open(SCHEMA).read())"),
        "import yaml\n" + STEP.format("yaml.load(open(SCHEMA).read(), Loader=yaml.CSafeLoader)"),
    ),
    "timm backbone name checked": (
        STEP.format("import timm\n'resnet10t' in timm.list_models()"),
        STEP.format(
            "from sonoflow.models.registry import timm_source_names\n"
            "'resnet10t' in timm_source_names()"
        ),
    ),
}


def measure_variants(runs: int) -> None:
    schema = repr(str(HERE / "workflow/schemas/config.schema.yaml"))
    env = environment(HERE)
    rows: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, programs in VARIANTS.items():
            for label, code in zip(("before", "after"), programs, strict=True):
                code = code.replace("SCHEMA", schema)
                result = subprocess.run(
                    [sys.executable, "-c", code],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                seconds = float(result.stdout.strip().splitlines()[-1])
                rows.setdefault(f"{name}: {label}", []).append(seconds)
    print_table("5. each removed cost, before and after (seconds of the step)", rows)
    for name in VARIANTS:
        before = statistics.median(rows[f"{name}: before"])
        after = statistics.median(rows[f"{name}: after"])
        print(f"  {name:<28} {before - after:5.2f} s saved per job ({before / after:.0f} x)")


def measure_preamble(runs: int) -> None:
    """Snakemake's preamble for a Python `script:`: import snakemake's script and logging
    modules, unpickle a Snakemake object; against a bare interpreter."""
    import pickle

    from snakemake.iocontainers import (
        InputFiles,
        Log,
        OutputFiles,
        Params,
        ResourceList,
        Snakemake,
        Wildcards,
    )

    job = Snakemake(
        InputFiles(["in.csv"]),
        OutputFiles(["out.csv"]),
        Params(),
        Wildcards(),
        2,
        ResourceList(),
        Log(["x.log"]),
        {},
        "train_fold",
        0,
        str(HERE),
    )

    preamble = (
        "import sys, pickle\n"
        f"snakemake = pickle.loads({pickle.dumps(job, protocol=4)!r})\n"
        "from snakemake.logging import logger\n"
        "from snakemake.iocontainers import Snakemake\n"
    )
    env = dict(os.environ)
    rows: dict[str, list[float]] = {"python -c pass": [], "script: preamble": []}
    for _ in range(runs):
        rows["python -c pass"].append(wall_seconds([sys.executable, "-c", "pass"], env))
        rows["script: preamble"].append(wall_seconds([sys.executable, "-c", preamble], env))
    print_table("2. Snakemake's script: preamble against a bare interpreter (wall seconds)", rows)
    extra = statistics.median(rows["script: preamble"]) - statistics.median(rows["python -c pass"])
    print(f"  the preamble adds {extra:.2f} s per job")


def project_config(root: Path) -> dict:
    config = yaml.safe_load((root / ".test/config.yaml").read_text())
    config["features"] = {
        "mel32": config["features"]["mel32"],
        "stats": {
            "type": "statistics",
            "window_s": 0.5,
            "hop_s": 0.1,
            "n_fft": 512,
            "hop_length": 160,
            "n_bins": 32,
        },
    }
    config["models"] = {
        "cnn": {"backbone": "resnet10t", "epochs": 1, "batch_size": 32},
        "mlp": {"backbone": "mlp", "epochs": 1, "batch_size": 32},
    }
    config["experiments"] = [
        {"dataset": "default", "features": "mel32", "model": "cnn"},
        {"dataset": "default", "features": "stats", "model": "mlp"},
    ]
    config["benchmarks"]["demo"]["shards"] = 1
    return config


def copy_project(root: Path, work: Path) -> None:
    for name in ("Snakefile", "workflow", "profiles", "envs"):
        source, target = root / name, work / name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    (work / "config.yaml").write_text(yaml.safe_dump(project_config(root), sort_keys=False))


def snakemake(work: Path, root: Path, *args: str) -> None:
    command = [
        str(Path(sys.executable).with_name("snakemake")),
        "--profile",
        "profiles/local",
        "--cores",
        "2",
        "--until",
        "predict",
        *args,
    ]
    result = subprocess.run(
        command, cwd=work, env=environment(root), capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"snakemake failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def logged_startups(work: Path) -> dict[str, float]:
    """Job kind -> start-up seconds of each job log that reports one."""
    found: dict[str, list[float]] = {}
    for rule in ("train_fold", "predict"):
        for log in sorted((work / "logs" / rule).glob("*.log")):
            match = STARTUP.search(log.read_text())
            kind = next(k for k, exp in EXPERIMENTS.items() if log.name.startswith(exp))
            if match:
                found.setdefault(f"{rule}, {kind}", []).append(float(match.group(1)))
    return found


def measure_jobs(roots: list[Path], work: Path, rounds: int) -> None:
    projects = {root: work / f"project{n + 1}" for n, root in enumerate(roots)}
    for root, project in projects.items():
        project.mkdir(parents=True, exist_ok=True)
        copy_project(root, project)
        snakemake(project, root)  # the corpus, caches, datasets, a first training: once
    rows: dict[str, list[float]] = {}
    for _ in range(rounds):
        for root, project in projects.items():
            snakemake(project, root, "--forcerun", "train_fold", "predict")
            for kind, values in logged_startups(project).items():
                rows.setdefault(labelled(roots, root, kind), []).extend(values)
    title = "3. jobs run by Snakemake: start-up as their logs report it (seconds)"
    print_table(title, dict(sorted(rows.items())))
    dry: dict[str, list[float]] = {}
    for _ in range(3 * rounds):
        for root, project in projects.items():
            start = time.perf_counter()
            snakemake(project, root, "--dry-run")
            dry.setdefault(labelled(roots, root, "snakemake --dry-run"), []).append(
                time.perf_counter() - start
            )
    print_table("4. the DAG: a dry run of the whole workflow (wall seconds)", dry)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="kept between runs (default: a temporary one)")
    parser.add_argument("--root", type=Path, action="append", help="a project checkout to measure")
    parser.add_argument("--parts", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = parser.parse_args()
    roots = [root.resolve() for root in args.root or [HERE]]
    for n, root in enumerate(roots):
        print(f"[{n + 1}] {root}")
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} at the start", flush=True)
    if 1 in args.parts:
        measure_imports(roots, 3 * args.rounds)
    if 2 in args.parts:
        measure_preamble(3 * args.rounds)
    if 5 in args.parts:
        measure_variants(3 * args.rounds)
    if {3, 4} & set(args.parts):
        if args.workdir:
            measure_jobs(roots, args.workdir, args.rounds)
        else:
            with tempfile.TemporaryDirectory() as work:
                measure_jobs(roots, Path(work), args.rounds)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
