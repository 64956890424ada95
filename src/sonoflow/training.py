"""Training one cross-validation fold of one experiment."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .atomic import write_csv, write_json
from .checkpoints import (
    StopSignal,
    fingerprint,
    load_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
)
from .dataset import NOISE
from .features import FeatureFrontend, FeatureSettings
from .models import build_model, pick_device, save_weights
from .spectrogram_cache import SpectrogramCache

log = logging.getLogger(__name__)


def class_names(labels: list[str]) -> list[str]:
    return [*labels, NOISE]


class ClipWindows(Dataset):
    """Normalised spectrogram windows of clips, read from the cache.

    A window's label describes its centre. In training the centre falls at random inside
    the clip (a free time shift); otherwise it is the clip's centre.
    """

    def __init__(
        self,
        clips: pd.DataFrame,
        cache: SpectrogramCache,
        frontend: FeatureFrontend,
        classes: list[str],
        shift: bool,
        seed: int = 0,
    ):
        self.clips = clips.reset_index(drop=True)
        self.cache, self.frontend, self.shift = cache, frontend, shift
        self.targets = self.clips["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        clip = self.clips.iloc[i]
        centre = (clip.start_s + clip.end_s) / 2
        if self.shift:
            centre = self.rng.uniform(clip.start_s, clip.end_s)
        settings = self.frontend.settings
        start = settings.frame_of(centre - settings.window_s / 2)
        window = self.frontend.normalize(self.cache.window(clip.recording, start))
        return window.unsqueeze(0), int(self.targets[i])


def train_fold(
    clips: pd.DataFrame,
    folds: np.ndarray,
    fold: int,
    cache_dir: str | Path,
    features: dict,
    labels: list[str],
    model_config: dict,
    out_dir: str | Path,
    threads: int = 1,
    checkpoint_path: str | Path | None = None,
) -> dict:
    """Train on every train+val fold but `fold`, validate on `fold`, keep the best epoch.

    With `checkpoint_path`, every finished epoch is checkpointed there and a rerun of the
    same training resumes from it; SIGTERM stops the run between batches.
    """
    out_dir = Path(out_dir)
    torch.set_num_threads(max(1, threads))
    seed = int(model_config["seed"]) + fold
    torch.manual_seed(seed)
    device = pick_device()
    settings = FeatureSettings.from_config(features)
    frontend = FeatureFrontend(settings)
    cache = SpectrogramCache(cache_dir, settings)
    classes = class_names(labels)
    train_clips = clips[(folds >= 0) & (folds != fold)]
    val_clips = clips[folds == fold]
    train_set = ClipWindows(train_clips, cache, frontend, classes, shift=True, seed=seed)
    val_set = ClipWindows(val_clips, cache, frontend, classes, shift=False)
    generator = torch.Generator().manual_seed(seed)
    batch = int(model_config["batch_size"])
    train_loader = DataLoader(train_set, batch_size=batch, shuffle=True, generator=generator)
    val_loader = DataLoader(val_set, batch_size=batch)

    model = build_model(model_config, len(classes)).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=float(model_config["lr"]),
        weight_decay=float(model_config["weight_decay"]),
    )
    loss_fn = nn.CrossEntropyLoss()
    run_id = fingerprint(
        model_config, features, labels, fold, train_clips.to_dict("list"), val_clips["uid"].tolist()
    )
    progress = {"epoch": 0, "history": [], "best": None, "best_f1": -1.0, "waited": 0}
    resumed = load_checkpoint(checkpoint_path, run_id) if checkpoint_path else None
    if resumed:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        restore_rng_states(resumed["rng"], generator, train_set.rng)
        progress = resumed["progress"]
    log.info(
        "fold %d on %s: %d train clips, %d validation clips, from epoch %d",
        fold,
        device,
        len(train_set),
        len(val_set),
        progress["epoch"] + 1,
    )
    with StopSignal() as stop:
        while progress["epoch"] < int(model_config["epochs"]):
            if progress["waited"] >= int(model_config["patience"]):
                log.info(
                    "early stop: no better validation macro-F1 for %d epochs", progress["waited"]
                )
                break
            epoch = progress["epoch"] + 1
            started = time.perf_counter()
            train_loss, train_acc, _ = _run_epoch(
                model, train_loader, loss_fn, device, optimizer, stop
            )
            seconds = time.perf_counter() - started
            val_loss, val_acc, val_f1 = _run_epoch(model, val_loader, loss_fn, device)
            progress["history"].append(
                {
                    "epoch": epoch,
                    "train_loss": train_loss,
                    "train_accuracy": train_acc,
                    "val_loss": val_loss,
                    "val_accuracy": val_acc,
                    "val_macro_f1": val_f1,
                    "lr": optimizer.param_groups[0]["lr"],
                    "epoch_s": seconds,
                    "samples_per_s": len(train_set) / seconds,
                }
            )
            log.info(
                "epoch %d: %s", epoch, {k: round(v, 4) for k, v in progress["history"][-1].items()}
            )
            if val_f1 > progress["best_f1"]:
                best = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                progress.update(best_f1=val_f1, best=best, waited=0)
            else:
                progress["waited"] += 1
            progress["epoch"] = epoch
            if checkpoint_path:
                save_checkpoint(
                    checkpoint_path,
                    {
                        "fingerprint": run_id,
                        "epoch": epoch,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "rng": rng_states(generator, train_set.rng),
                        "progress": progress,
                    },
                )
    history = progress["history"]
    best_row = max(history, key=lambda row: row["val_macro_f1"])
    meta = {
        "classes": classes,
        "model": dict(model_config),
        "features": dict(features),
        "fold": fold,
    }
    save_weights(out_dir / "model.pt", model, progress["best"], meta)
    write_csv(out_dir / "history.csv", pd.DataFrame(history))
    results = {
        **meta,
        "device": device.type,
        "best_epoch": best_row["epoch"],
        "epochs_run": len(history),
        "resumed_after_epoch": resumed["epoch"] if resumed else None,
        "train_clips": len(train_set),
        "val_clips": len(val_set),
        "metrics": {k: v for k, v in best_row.items() if k.startswith("val_")},
    }
    write_json(out_dir / "results.json", results)
    if checkpoint_path:
        Path(checkpoint_path).unlink(missing_ok=True)  # outputs are complete: nothing to resume
    return results


def _run_epoch(
    model: nn.Module,
    loader: DataLoader,
    loss_fn: nn.Module,
    device: torch.device,
    optimizer: torch.optim.Optimizer | None = None,
    stop: StopSignal | None = None,
) -> tuple[float, float, float]:
    """One pass; trains when an optimizer is given. Returns loss, accuracy, macro-F1."""
    model.train(optimizer is not None)
    total_loss, predicted, truth = 0.0, [], []
    with torch.set_grad_enabled(optimizer is not None):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = loss_fn(logits, y)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if stop is not None:
                    stop.check()
            total_loss += float(loss) * len(y)
            predicted.append(logits.argmax(1).cpu())
            truth.append(y.cpu())
    predicted, truth = torch.cat(predicted).numpy(), torch.cat(truth).numpy()
    accuracy = float((predicted == truth).mean())
    macro_f1 = float(f1_score(truth, predicted, average="macro", zero_division=0))
    return total_loss / len(truth), accuracy, macro_f1
