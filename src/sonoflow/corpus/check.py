"""Every problem of a corpus at once, as a table, instead of stopping at the first.

Command line (from the project root):
    sonoflow-check-corpus [--config config.yaml] [--out problems.tsv]
    python -m sonoflow.corpus.check [--config config.yaml] [--out problems.tsv]
Prints the table and exits with status 1 when a problem would stop `prepare_dataset`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sonoflow.common.atomic import write_csv
from sonoflow.common.schema import read_config_file, section_with_defaults
from sonoflow.corpus.load import corpus_paths, load_corpus
from sonoflow.corpus.problems import format_table


def check_corpus(corpus_config: dict, demo_dir: str | Path) -> pd.DataFrame:
    """The problem table (file, row, check, detail, action) of a corpus, every recording
    decoded so that NaN samples are found too; `demo_dir` holds the demo corpus."""
    corpus_config = section_with_defaults("corpus", corpus_config)
    paths = corpus_paths(corpus_config, demo_dir)
    corpus = load_corpus(paths["recordings"], paths["annotations"], corpus_config, decode=True)
    return corpus.problems.frame()


def write_report(problems: pd.DataFrame, path: str | Path) -> None:
    write_csv(path, problems, sep="\t")


def summary(problems: pd.DataFrame) -> str:
    if problems.empty:
        return "no problems found"
    counts = problems["action"].value_counts().sort_index()
    head = ", ".join(f"{n} {action}" for action, n in counts.items())
    return f"{len(problems)} problem(s): {head}\n{format_table(problems, max_rows=200)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="config.yaml", help="workflow config (its corpus)")
    parser.add_argument("--out", help="also write the table here, tab-separated")
    parser.add_argument(
        "--demo-dir",
        default="results/demo_corpus",
        help="the workflow's demo corpus, for `corpus.recordings: demo` (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        config = read_config_file(args.config)
        problems = check_corpus(config.get("corpus", {}), args.demo_dir)
    except (ValueError, OSError) as err:
        print(f"check_corpus: {err}", file=sys.stderr)
        return 2
    if args.out:
        write_report(problems, args.out)
    print(summary(problems))
    return int((problems["action"] == "error").any())


if __name__ == "__main__":
    sys.exit(main())
