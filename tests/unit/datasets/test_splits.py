import numpy as np
import pandas as pd
import pytest

from sonoflow.datasets.splits import assign_group_splits, cv_folds


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
        split_of = assign_group_splits(
            clips["tape"], clips["label"], {"train": 0.7, "val": 0.15, "test": 0.15}, seed
        )
        assert set(split_of) == set(clips["tape"])  # one split per tape, by construction of a dict
        assert set(split_of.values()) == {"train", "val", "test"}


def test_split_shares_approach_ratios_with_many_tapes():
    clips = pd.DataFrame({"tape": [f"t{i}" for i in range(100) for _ in range(10)]})
    one = pd.Series("a", index=clips.index)
    split_of = assign_group_splits(clips["tape"], one, {"train": 0.8, "val": 0.1, "test": 0.1}, 3)
    shares = clips["tape"].map(split_of).value_counts(normalize=True)
    assert shares["train"] == pytest.approx(0.8, abs=0.02)
    assert shares["val"] == pytest.approx(0.1, abs=0.02)


def test_same_seed_same_splits():
    clips = _clips(np.random.default_rng(1))
    ratios = {"train": 0.7, "val": 0.15, "test": 0.15}
    assert assign_group_splits(clips["tape"], clips["label"], ratios, 5) == assign_group_splits(
        clips["tape"], clips["label"], ratios, 5
    )


def test_cv_folds_are_grouped_by_tape_and_skip_test():
    clips = _clips(np.random.default_rng(2), n_tapes=12)
    split_of = assign_group_splits(
        clips["tape"], clips["label"], {"train": 0.7, "val": 0.15, "test": 0.15}, 0
    )
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


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("ratios", [(0.7, 0.15, 0.15), (0.8, 0.1, 0.1)])
def test_small_groups_keep_ratios_and_do_not_all_fall_into_test(ratios, seed):
    # a few big tapes and many small ones, two labels in different proportions per tape
    rng = np.random.default_rng(4)
    rows = []
    for t in range(60):
        size = 80 if t < 3 else int(rng.integers(1, 6))
        rows += [
            {"tape": f"t{t}", "label": rng.choice(["a", "b"], p=[0.8, 0.2])} for _ in range(size)
        ]
    clips = pd.DataFrame(rows)
    wanted = dict(zip(("train", "val", "test"), ratios))
    split_of = assign_group_splits(clips["tape"], clips["label"], wanted, seed)
    split = clips["tape"].map(split_of)
    for label in ("a", "b"):  # stratified: each label's shares follow the ratios
        shares = split[clips["label"] == label].value_counts(normalize=True)
        for name, ratio in wanted.items():
            assert shares.get(name, 0) == pytest.approx(ratio, abs=0.05), (label, name)
    small = [t for t in split_of if clips["tape"].eq(t).sum() < 6]
    small_splits = pd.Series([split_of[t] for t in small]).value_counts(normalize=True)
    assert small_splits.get("test", 0) < 0.5


def test_zero_ratio_split_gets_no_group():
    clips = pd.DataFrame({"tape": [f"t{i}" for i in range(20)], "label": "a"})
    split_of = assign_group_splits(
        clips["tape"], clips["label"], {"train": 0.8, "val": 0.0, "test": 0.2}, 1
    )
    assert set(split_of.values()) == {"train", "test"}
