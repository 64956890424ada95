"""The GPU figures of docs/performance.md in one call, as one table.

    python bench/gpu.py [--budget-s 480] [--cpu] [--keep FOLDER]

Runs, one after the other, each as its own process with a time limit taken from what is left of
`--budget-s`: the prediction benchmark (eager, `torch` and CUDA graphs; batch sizes; 1 and 3
folds), the training benchmark (input `device` and `pinned`), and the demo workflow with the
local profile in a scratch folder. Then prints one Markdown table of what each printed. A run
that fails or runs out of time gets a row saying so, and the others still run.

Without a GPU (or with `--cpu`) it runs the same steps with small sizes, on the tiny config
instead of the demo, in a few minutes: the tests run it that way so that it cannot rot.
`bench/gpu.sh` is the same for a shell.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Step:
    name: str
    command: list[str]
    # (label, regex with one group): the figures this step's output gives, one table row;
    # a prediction step gives one row per compile mode instead (prediction_rows)
    figures: list[tuple[str, str]]
    workdir: Path | None = None
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    status: str = "not run"
    seconds: float = 0.0


# A mode's line of bench/prediction_throughput.py's table:
# mode, prep s, end to end, x eager, x real time, alone, x eager, max |score - eager|
MODE_LINE = re.compile(
    r"^\s+(none|torch|cudagraphs|jit|onnx)\s+(-?[\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)"
    r"\s+([\d.]+)\s+([\d.]+)\s+(\S+)$",
    re.M,
)
MODE_LABELS = [
    "preparation s",
    "end to end windows/s",
    "end to end x eager",
    "x real time",
    "model alone windows/s",
    "model alone x eager",
    "max score difference",
]
TRAINING_FIGURES = [
    ("real path samples/s", r"real data path\s+([\d.]+) samples/s"),
    ("in-memory samples/s", r"in-memory tensors\s+([\d.]+) samples/s"),
    ("real / in-memory", r"ratio real / in-memory: ([\d.]+)"),
]
WORKFLOW_FIGURES = [
    ("jobs", r"(\d+) of \d+ steps \(100%\) done"),
    ("best F1", r"best F1 ([\d.]+) "),
]


def prediction(
    name: str, batch: int, folds: int, modes: list[str], minutes: float, threads: int
) -> Step:
    """Eager and each of `modes`, side by side in one run."""
    command = [
        *("bench/prediction_throughput.py", "--minutes", str(minutes), "--repeats", "2"),
        *("--batch-size", str(batch), "--folds", str(folds), "--compile", *modes),
        *("--baseline-windows", "0", "--threads", str(threads)),
    ]
    return Step(name, command, [])


def prediction_rows(name: str, output: str) -> dict[str, dict[str, str]]:
    return {
        f"{name} [{found[0]}]": dict(zip(MODE_LABELS, found[1:], strict=True))
        for found in MODE_LINE.findall(output)
    }


def training(name: str, input_: str, backbone: str, batch: int, tapes: int, threads: int) -> Step:
    command = [
        *("bench/train_throughput.py", "--backbone", backbone, "--batch", str(batch)),
        *("--input", input_, "--tapes", str(tapes), "--repeats", "2", "--threads", str(threads)),
    ]
    return Step(name, command, TRAINING_FIGURES)


def workflow(name: str, config: dict, scratch: Path, cores: int) -> Step:
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    command = [
        *("-m", "snakemake", "--snakefile", str(ROOT / "Snakefile")),
        *("--directory", str(scratch), "--profile", str(ROOT / "profiles/local")),
        *("--cores", str(cores), "--scheduler", "greedy"),
    ]
    return Step(name, command, WORKFLOW_FIGURES, workdir=scratch)


def leaderboard_lines(workdir: Path) -> str:
    """The leaderboard's top F1 as a line the figures' patterns read (the workflow prints none)."""
    board = workdir / "results/leaderboard.csv"
    if not board.exists():
        return ""
    import pandas as pd

    top = pd.read_csv(board).iloc[0]
    return f"\nbest F1 {top['f1']:.3f} ({top['experiment']})\n"


def plan(gpu: bool, scratch: Path) -> list[Step]:
    """The steps, the cheap and most asked-for first, so that a short budget still gives them."""
    if gpu:
        cores = os.cpu_count() or 2
        threads = min(cores, 8)
        demo = yaml.safe_load((ROOT / "config.yaml").read_text())
        return [
            prediction("predict b1024", 1024, 1, ["none"], 30, threads),
            prediction("predict b1024 3 folds", 1024, 3, ["none"], 30, threads),
            training("train resnet18 device", "device", "resnet18", 128, 8, threads),
            training("train resnet18 pinned", "pinned", "resnet18", 128, 8, threads),
            prediction("predict b4096", 4096, 1, ["cudagraphs"], 30, threads),
            prediction("predict b1024", 1024, 1, ["torch"], 30, threads),
            workflow("demo workflow", demo, scratch / "demo", cores),
        ]
    # One thread per benchmark: on a small shared CPU two threads contend (docs/performance.md).
    # The tiny workflow with its CNN only: every stage, a dozen jobs.
    tiny = yaml.safe_load((ROOT / ".test/config.yaml").read_text())
    tiny["models"] = {"tiny": tiny["models"]["tiny"]}
    return [
        prediction("predict b16", 16, 1, ["onnx"], 0.05, 1),
        prediction("predict b16 3 folds", 16, 3, ["none"], 0.05, 1),
        training("train resnet10t device", "device", "resnet10t", 16, 2, 1),
        training("train resnet10t pinned", "pinned", "resnet10t", 16, 2, 1),
        workflow("tiny workflow", tiny, scratch / "tiny", 2),
    ]


def run(step: Step, limit_s: float, env: dict) -> None:
    """Runs `step` with a time limit, keeping its output beside the table's figures."""
    if limit_s < 5:
        step.status = "skipped (budget spent)"
        return
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, *step.command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=limit_s,
        )
        output, step.status = done.stdout + done.stderr, "ok" if done.returncode == 0 else None
        if step.status is None:
            step.status = f"failed (exit {done.returncode})"
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"").decode() + (expired.stderr or b"").decode()
        step.status = f"timed out after {limit_s:.0f} s"
    step.seconds = time.perf_counter() - started
    if step.workdir is not None:
        output += leaderboard_lines(step.workdir)
    step.rows = prediction_rows(step.name, output) if not step.figures else {step.name: {}}
    for label, pattern in step.figures:
        found = re.findall(pattern, output)
        if found:
            step.rows[step.name][label] = found[-1]
    if not step.status.startswith("ok"):
        tail = "\n".join(output.strip().splitlines()[-15:])
        print(f"--- {step.name}: {step.status}; last lines:\n{tail}\n---", file=sys.stderr)


def table(steps: list[Step]) -> str:
    """One row per step (per compile mode for prediction), one column per figure."""
    rows = [
        (step, name, figures)
        for step in steps
        for name, figures in (step.rows or {step.name: {}}).items()
    ]
    labels = list(dict.fromkeys(label for _, _, figures in rows for label in figures))
    lines = [
        "| step | status | seconds | " + " | ".join(labels) + " |",
        "|---" * (3 + len(labels)) + "|",
    ]
    for step, name, figures in rows:
        cells = [figures.get(label, "") for label in labels]
        lines.append(f"| {name} | {step.status} | {step.seconds:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def describe_machine() -> str:
    import torch  # only here: the steps run in their own processes

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, {os.cpu_count()} CPUs"
    return f"CPU only, torch {torch.__version__}, {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=480, help="for all steps together")
    parser.add_argument("--cpu", action="store_true", help="small sizes even with a GPU")
    parser.add_argument("--keep", type=Path, help="scratch folder to keep (default: temporary)")
    args = parser.parse_args()
    import torch

    gpu = torch.cuda.is_available() and not args.cpu
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        scratch = args.keep or Path(tmp)
        steps = plan(gpu, scratch)
        deadline = time.perf_counter() + args.budget_s
        for step in steps:
            run(step, deadline - time.perf_counter(), env)
            print(f"{step.name}: {step.status}, {step.seconds:.0f} s", file=sys.stderr, flush=True)
    print(f"bench/gpu.py on {describe_machine()}, budget {args.budget_s:.0f} s")
    print(table(steps))


if __name__ == "__main__":
    main()
