"""A recording replaced at the same path reruns what read it, whichever stage: the spectrogram
cache and the dataset for a corpus recording, prediction and evaluation for a benchmark
recording (detection's own per-recording records are tested in test_detect_workflow.py)."""

import copy
import os
import shutil
import time

from workflow_helpers import TINY_CONFIG, scheduled_jobs, snakemake, write_config


def _replace(path, by):
    """`path` gets `by`'s bytes and a modification time clearly after every output's."""
    shutil.copyfile(by, path)
    later = time.time() + 60
    os.utime(path, (later, later))


def test_a_replaced_recording_reruns_every_stage_that_read_it(tiny_local_run, tmp_path):
    project = tmp_path / "run"
    shutil.copytree(tiny_local_run, project, symlinks=True)  # the shared run stays as it is
    field = project / "field"  # the demo corpus as a user's folders of recordings
    shutil.copytree(project / "results/demo_corpus/train", field / "train")
    shutil.copytree(project / "results/demo_corpus/benchmark", field / "benchmark")
    config = copy.deepcopy(TINY_CONFIG)
    config["corpus"] = {
        **config.get("corpus", {}),
        "recordings": str(field / "train/audio"),
        "annotations": str(field / "train/annotations"),
    }
    config["benchmarks"]["demo"].update(
        recordings=str(field / "benchmark/audio"),
        annotations=str(field / "benchmark/annotations"),
    )
    write_config(project, config)
    snakemake(project, "--touch")  # the run's outputs stand for these folders now
    assert scheduled_jobs(project) == {}

    bench = sorted((field / "benchmark/audio").glob("*.wav"))[0]
    _replace(bench, sorted((field / "train/audio").glob("*.wav"))[0])
    jobs = scheduled_jobs(project)
    assert jobs["predict"] >= 1 and jobs["evaluate"] >= 1
    assert not {"cache_spectrograms", "prepare_dataset", "train_fold"} & set(jobs)

    tape = sorted((field / "train/audio").glob("*.wav"))[0]
    _replace(tape, sorted((field / "train/audio").glob("*.wav"))[1])
    jobs = scheduled_jobs(project)
    assert {"cache_spectrograms", "prepare_dataset", "train_fold", "predict"} <= set(jobs)
