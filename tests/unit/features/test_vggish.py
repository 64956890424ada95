"""VGGish in PyTorch with random weights saved to a file by the test (no network)."""

import numpy as np
import pytest
import soundfile as sf
import torch

from sonoflow.corpus.audio import load_mono
from sonoflow.features.cache import SpectrogramCache, build_cache
from sonoflow.features.registry import build_frontend, input_shape
from sonoflow.features.vggish import VGGish


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("vggish") / "vggish.pt"
    torch.save(VGGish().state_dict(), path)
    return path


def vggish(weights, hop_s=0.48):
    return {"type": "embedding", "model": "vggish", "weights": str(weights), "hop_s": hop_s}


def test_patches_and_embeddings_have_vggish_s_shapes(weights):
    frontend = build_frontend(vggish(weights))
    assert frontend.settings.sample_rate == 16000 and frontend.settings.n_fft == 15600
    patches = frontend.patches(torch.randn(3, 15600))
    assert patches.shape == (3, 1, 96, 64)
    assert frontend.embed(torch.randn(3, 15600)).shape == (3, 128)
    assert input_shape(vggish(weights)) == (128, 1)


def test_cached_embedding_equals_the_window_of_the_whole_recording(weights, tmp_path):
    rate = 22050  # resampled to 16 kHz by the cache and here alike
    t = np.arange(int(4.2 * rate)) / rate
    wave = 0.2 * np.sin(2 * np.pi * (500 + 400 * t) * t) + 0.01 * np.cos(2 * np.pi * 3000 * t)
    sf.write(tmp_path / "tape.wav", wave.astype(np.float32), rate)
    features = vggish(weights)
    build_cache([tmp_path / "tape.wav"], features, tmp_path / "cache")
    frontend = build_frontend(features)
    audio = torch.from_numpy(load_mono(tmp_path / "tape.wav", 16000))
    with torch.inference_mode():
        whole = frontend(audio)
        assert whole.shape == (128, 1 + (len(audio) - 15600) // 7680)
        cache = SpectrogramCache(tmp_path / "cache", frontend.settings)
        for frame in range(whole.shape[1]):
            cached = cache.window("tape", frame)[:, 0]
            torch.testing.assert_close(cached, whole[:, frame], atol=2e-3, rtol=2e-3)
            alone = frontend.model(
                frontend.patches(audio[None, frame * 7680 : frame * 7680 + 15600])
            )
            torch.testing.assert_close(alone[0], whole[:, frame], atol=1e-4, rtol=1e-4)


def test_wrong_weights_name_the_key(tmp_path):
    torch.save({"features.0.weight": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a state dict of sonoflow's VGGish"):
        build_frontend(vggish(tmp_path / "other.pt"))
    with pytest.raises(FileNotFoundError, match=r"features.NAME.weights"):
        build_frontend(vggish(tmp_path / "missing.pt"))
