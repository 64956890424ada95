"""Collar mode agrees number for number with sed_eval's EventBasedMetrics (the reference)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sonoflow.evaluation.benchmark import ALL, MACRO, compare, summarize_counts

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # dcase_util imports pkg_resources
    import sed_eval
    from dcase_util.containers import MetaDataContainer

LABELS = ["a", "b", "c"]  # `c` never occurs in the ground truth
SETTINGS = {"match": "collar", "collar_s": 0.2, "percentage_of_length": 0.5, "segment_s": 1.0}


def random_events(rng, n, labels, grid):
    """Events on a coarse grid so that zero-length, touching and boundary cases are common."""
    rows = []
    for _ in range(n):
        start = rng.integers(0, 40) * grid
        length = rng.choice([0, 1, 2, 3, 5, 10]) * grid
        rows.append((float(start), float(start + length), str(rng.choice(labels))))
    return rows


def jittered(rng, events, grid):
    return [
        (s + rng.integers(-3, 4) * grid / 2, max(s, e + rng.integers(-3, 4) * grid / 2), lab)
        for s, e, lab in events
        if rng.random() < 0.8
    ]


def random_case(rng):
    files = {}
    for f in range(rng.integers(1, 5)):
        kind = rng.integers(0, 5)
        ref = [] if kind == 0 else random_events(rng, rng.integers(0, 7), ["a", "b"], 0.1)
        est = [] if kind == 1 else jittered(rng, ref, 0.1)
        est += random_events(rng, rng.integers(0, 4), LABELS, 0.1)
        files[f"file{f}"] = (ref, est)
    return files


def ours(files, settings):
    rows = []
    for name, (ref, est) in files.items():
        for lab in LABELS:
            r = pd.DataFrame(
                [(s, e) for s, e, x in ref if x == lab], columns=["start_s", "end_s"], dtype=float
            )
            e = np.array([(s, t) for s, t, x in est if x == lab], dtype=float).reshape(-1, 2)
            rows.append(
                {"threshold": 0.5, "class": lab, "recording": name, **compare(r, e, settings, 4.0)}
            )
    return summarize_counts(pd.DataFrame(rows), LABELS).set_index("class")


def reference(files, settings):
    metric = sed_eval.sound_event.EventBasedMetrics(
        event_label_list=LABELS,
        t_collar=settings["collar_s"],
        percentage_of_length=settings["percentage_of_length"],
    )
    for name, (ref, est) in files.items():

        def container(events, name=name):
            return MetaDataContainer(
                [
                    {"filename": name, "event_label": x, "onset": s, "offset": e}
                    for s, e, x in events
                ]
            )

        metric.evaluate(container(ref), container(est))
    return metric


def same(a, b):
    return (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-12)


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
@pytest.mark.parametrize("collar_s,percentage", [(0.2, 0.5), (0.1, 0.0), (0.25, 1.0)])
def test_collar_mode_agrees_with_sed_eval(collar_s, percentage):
    rng = np.random.default_rng(int(collar_s * 100 + percentage * 10))
    settings = {**SETTINGS, "collar_s": collar_s, "percentage_of_length": percentage}
    checked = 0
    for _ in range(100):
        files = random_case(rng)
        mine, sed = ours(files, settings), reference(files, settings)
        for lab in LABELS:
            counts = sed.class_wise[lab]
            row = mine.loc[lab]
            assert (row["tp"], row["n_reference"], row["n_detected"]) == (
                counts["Ntp"],
                counts["Nref"],
                counts["Nsys"],
            ), files
            assert row["fp"] == counts["Nfp"] and row["fn"] == counts["Nfn"]
            f = sed.class_wise_f_measure(lab)
            for ours_name, theirs in (("precision", "precision"), ("recall", "recall")):
                assert same(row[ours_name], f[theirs]), (lab, ours_name, files)
            assert same(row["f1"], f["f_measure"]), (lab, files)
        overall = sed.overall
        row = mine.loc[ALL]
        # sed_eval moves a wrong-label detection at a reference's time from FP and FN into
        # substitutions; per-class counts (ours) keep it in both
        assert row["tp"] == overall["Ntp"]
        assert row["fp"] == overall["Nfp"] + overall["Nsubs"]
        assert row["fn"] == overall["Nfn"] + overall["Nsubs"]
        f = sed.overall_f_measure()
        assert same(row["precision"], f["precision"]) and same(row["recall"], f["recall"])
        macro = sed.results_class_wise_average_metrics()["f_measure"]
        for name, theirs in (("recall", "recall"), ("precision", "precision"), ("f1", "f_measure")):
            assert same(mine.loc[MACRO, name], macro[theirs]), (name, files)
        checked += 1
    assert checked == 100
