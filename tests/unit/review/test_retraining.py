"""Reviews' verdicts as a dataset's clips: read from each review's verdict folder, no
folder yet adds nothing, a bad verdict file is named by file and row."""

import pandas as pd
import pytest

from sonoflow.review.retraining import reviewed_training_clips
from sonoflow.review.verdicts import VerdictError


def write_sample(path):
    pd.DataFrame(
        {
            "id": ["001", "002", "003", "004"],
            "recording": ["siteA/r1", "siteA/r1", "siteB/r2", "siteB/r2"],
            "path": ["siteA/r1.wav", "siteA/r1.wav", "siteB/r2.flac", "siteB/r2.flac"],
            "class": ["hum", "hum", "chirp", "chirp"],
            "start_s": [1.0, 4.0, 2.0, 6.0],
            "end_s": [1.5, 4.5, 2.2, 6.2],
            "score": [0.9, 0.4, 0.8, 0.6],
            "verdict": ["", "", "", ""],
        }
    ).to_csv(path, index=False)
    return path


def test_yes_and_no_verdicts_become_clips_of_their_reviews(tmp_path):
    sample = write_sample(tmp_path / "sample.csv")
    folder = tmp_path / "verdicts"
    folder.mkdir()
    pd.DataFrame(
        {"id": ["001", "002", "003", "004"], "verdict": ["yes", "no", "unsure", "n"]}
    ).to_csv(folder / "mine.csv", index=False)
    reviews = {
        "spring": {"sample": sample, "verdicts": folder, "recordings": tmp_path},
        "summer": {
            "sample": sample,
            "verdicts": tmp_path / "no",
            "recordings": tmp_path,
        },  # none yet
    }
    clips = reviewed_training_clips(reviews, ["hum", "chirp"], "datasets.d")
    assert clips[["recording", "label", "source"]].values.tolist() == [
        ["reviewed/spring/siteA/r1", "hum", "reviewed"],
        ["reviewed/spring/siteA/r1", "noise", "rejected"],
        ["reviewed/spring/siteB/r2", "noise", "rejected"],
    ]
    assert clips["file"].tolist() == ["siteA/r1.wav", "siteA/r1.wav", "siteB/r2.flac"]


def test_a_bad_verdict_file_is_named_with_its_row(tmp_path):
    sample = write_sample(tmp_path / "sample.csv")
    folder = tmp_path / "verdicts"
    folder.mkdir()
    pd.DataFrame({"id": ["001", "003"], "verdict": ["yes", "perhaps"]}).to_csv(
        folder / "mine.csv", index=False
    )
    reviews = {"spring": {"sample": sample, "verdicts": folder, "recordings": tmp_path}}
    with pytest.raises(VerdictError, match=r"mine\.csv row 3: unknown verdict 'perhaps'"):
        reviewed_training_clips(reviews, ["hum", "chirp"], "datasets.d")
    pd.DataFrame({"id": ["001"], "verdict": ["no"], "corrected_class": ["owl"]}).to_csv(
        folder / "mine.csv", index=False
    )
    with pytest.raises(VerdictError, match=r"row 2: corrected class 'owl' is not one of"):
        reviewed_training_clips(reviews, ["hum", "chirp"], "datasets.d")
