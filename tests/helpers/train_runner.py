"""Runs one fold's training in its own process, for the interruption tests.

Usage: python train_runner.py WORKDIR OUT_DIR [CHECKPOINT]
"""

import json
import sys
from pathlib import Path

import pandas as pd

from sonoflow.datasets.splits import cv_folds
from sonoflow.training.data import TrainingData
from sonoflow.training.fold import train_fold

work, out_dir = Path(sys.argv[1]), sys.argv[2]
checkpoint = sys.argv[3] if len(sys.argv) > 3 else None
settings = json.loads((work / "settings.json").read_text())
clips = pd.read_csv(work / "dataset/clips.csv")
data = TrainingData(clips, work / "cache", settings["features"], ["hum", "chirp"])
train_fold(
    data,
    cv_folds(clips, 2, seed=0),
    0,
    model_config=settings["model"],
    out_dir=out_dir,
    threads=1,
    checkpoint_path=checkpoint,
)
