"""Benchmark ground truth, read by the corpus reader (corpus/load.py).

A benchmark accepts every annotation format the corpus does (Raven, multi-file Raven, CSV,
Audacity), matches files to recordings by the same rule, and validates rows the same way:
empty or non-numeric times, times before 0 or past the recording's end, end before start,
unreadable quality grades, view duplicates (only rows with the same selection number, times
and label), rows repeating another's recording, times and label (an error naming both lines,
or skipped by the bad-row policy: the same call twice could only ever be matched once).
Its format, column and bad-row keys default to the corpus's (`null` in the
benchmark's section); messages name the key that decided.

Nothing passes silently: a recording without an annotation file or row stops evaluation
unless `benchmarks.NAME.unannotated` is `call_free`; an annotation file that matches no
recording stops it unless the bad-row policy is `skip`; and every recording that was
scored must be one the ground truth knows, and the other way round.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sonoflow.common.schema import section_with_defaults
from sonoflow.corpus.load import Corpus, load_corpus
from sonoflow.corpus.problems import CorpusError, Problems

# Reader settings a benchmark may set itself; `null` takes the corpus's (the demo's tables:
# the schema's corpus defaults). Policies not set in the benchmark are the corpus's.
READER_KEYS = ("annotation_format", "label_column", "quality_column", "quality_regex")
POLICY_KEYS = ("bad_annotations", "bad_audio", "label_match")


def ground_truth_settings(name: str, benchmark: dict, corpus: dict) -> dict:
    """What reading benchmark `name`'s ground truth depends on, as plain values: the
    corpus-reader settings (`reader`) and the config key each came from (`keys`).

    The demo's benchmark tables are written like the demo corpus's, so a `demo` benchmark
    reads them with the schema's corpus defaults rather than a (user) corpus's format.
    """
    prefix = f"benchmarks.{name}"
    demo_tables = section_with_defaults("corpus", {}) if benchmark["recordings"] == "demo" else {}
    reader = {
        "labels": list(corpus["labels"]),
        "channel": benchmark["channel"],
        "metadata": None,  # a benchmark's metadata feeds models, not the ground truth
        "unannotated": benchmark["unannotated"],
    }
    keys = {
        "recordings": f"{prefix}.recordings",
        "annotations": f"{prefix}.annotations",
        "channel": f"{prefix}.channel",
        "unannotated": f"{prefix}.unannotated",
        "labels": "corpus.labels",
    }
    for key in (*READER_KEYS, *POLICY_KEYS):
        own = benchmark.get(key)
        if own is not None:
            reader[key], keys[key] = own, f"{prefix}.{key}"
        elif demo_tables and key in READER_KEYS:
            reader[key], keys[key] = demo_tables[key], f"{prefix}.{key}"
        else:
            reader[key], keys[key] = corpus[key], f"corpus.{key}"
    return {"name": name, "reader": reader, "keys": keys}


def read_ground_truth(
    recordings_dir: str | Path, annotations: str | Path, settings: dict
) -> Corpus:
    """The benchmark's recordings (headers) and reference events (annotations.ANNOTATION_COLUMNS);
    raises CorpusError listing every problem the settings do not allow to skip."""
    problems = Problems(settings["keys"], subject=f"benchmark {settings['name']}")
    truth = load_corpus(recordings_dir, annotations, settings["reader"], problems=problems)
    problems.raise_errors()
    return truth


def check_scored(scored: list[str], truth: Corpus, name: str) -> None:
    """Scores and ground truth cover the same recordings; otherwise CorpusError naming them."""
    known = set(truth.recordings["recording"])
    lines = [
        f"  {r}: scored, but not a recording of the benchmark" for r in sorted(set(scored) - known)
    ]
    lines += [f"  {r}: a benchmark recording without scores" for r in sorted(known - set(scored))]
    if lines:
        raise CorpusError(
            f"benchmark {name}: scores and ground truth disagree on the recordings "
            "(rerun prediction):\n" + "\n".join(lines)
        )


def references_per_recording(truth: Corpus, labels: list[str]) -> pd.DataFrame:
    """Reference events per recording (rows) and label (columns), zeros included: what is scored."""
    table = truth.annotations[truth.annotations["label"].isin(labels)]
    counts = pd.crosstab(table["recording"], table["label"])
    return counts.reindex(
        index=truth.recordings["recording"], columns=labels, fill_value=0
    ).rename_axis(index="recording", columns=None)
