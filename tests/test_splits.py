import numpy as np
import pandas as pd
import pytest

from sonoflow.splits import assign_tape_splits, cv_folds


def _clips(rng, n_tapes=10):
    rows = []
    for t in range(n_tapes):
        for _ in range(rng.integers(5, 40)):
            rows.append({"tape": f"tape{t}", "label": rng.choice(["a", "b", "noise"])})
    return pd.DataFrame(rows)


def test_splits_are_tape_disjoint_and_cover_every_split():
    rng = np.random.default_rng(0)
    for seed in range(20):
        clips = _clips(rng, n_tapes=int(rng.integers(3, 15)))
        split_of = assign_tape_splits(
            clips["tape"], {"train": 0.7, "val": 0.15, "test": 0.15}, seed
        )
        assert set(split_of) == set(clips["tape"])  # one split per tape, by construction of a dict
        assert set(split_of.values()) == {"train", "val", "test"}


def test_split_shares_approach_ratios_with_many_tapes():
    clips = pd.DataFrame({"tape": [f"t{i}" for i in range(100) for _ in range(10)]})
    split_of = assign_tape_splits(clips["tape"], {"train": 0.8, "val": 0.1, "test": 0.1}, seed=3)
    shares = clips["tape"].map(split_of).value_counts(normalize=True)
    assert shares["train"] == pytest.approx(0.8, abs=0.02)
    assert shares["val"] == pytest.approx(0.1, abs=0.02)


def test_same_seed_same_splits():
    clips = _clips(np.random.default_rng(1))
    ratios = {"train": 0.7, "val": 0.15, "test": 0.15}
    assert assign_tape_splits(clips["tape"], ratios, 5) == assign_tape_splits(
        clips["tape"], ratios, 5
    )


def test_cv_folds_are_grouped_by_tape_and_skip_test():
    clips = _clips(np.random.default_rng(2), n_tapes=12)
    split_of = assign_tape_splits(clips["tape"], {"train": 0.7, "val": 0.15, "test": 0.15}, 0)
    clips["split"] = clips["tape"].map(split_of)
    folds = cv_folds(clips, n_folds=3, seed=0)
    assert (folds[clips["split"] == "test"] == -1).all()
    assert set(folds[clips["split"] != "test"]) == {0, 1, 2}
    per_tape = pd.Series(folds).groupby(clips["tape"]).nunique()
    assert (per_tape == 1).all()  # no tape on both sides of a fold


def test_too_few_tapes_for_folds_is_explained():
    clips = pd.DataFrame({"tape": ["a", "a", "b"], "label": ["x", "y", "x"], "split": "train"})
    with pytest.raises(ValueError, match="cv.folds is 3 but train\\+val hold only 2 tape"):
        cv_folds(clips, 3, 0)
