"""The model registry: presets, close-match errors, CBAM, the MLP baseline, pretrained files,
fusion, multi-label outputs, and weights that load back."""

import pytest
import timm
import torch

from sonoflow.common.schema import ConfigError
from sonoflow.models.build import build_model
from sonoflow.models.cbam import CBAM
from sonoflow.models.config import model_with_defaults
from sonoflow.models.registry import (
    PRESETS,
    check_backbone,
    pretrained_file,
    timm_source_names,
    with_pretrained_file,
)
from sonoflow.models.weights import load_weights, save_weights

SHAPE = (32, 25)  # n_bins, frames: the tiny test features
FEATURES = {"window_s": 0.5, "n_bins": 32, "hop_length": 320}


def _model(**config):
    return model_with_defaults(config)


@pytest.mark.parametrize("backbone", [*PRESETS, "resnet10t"])
def test_every_preset_maps_a_spectrogram_batch_to_logits(backbone):
    model = build_model(_model(backbone=backbone), 3, SHAPE).eval()
    with torch.no_grad():
        logits = model(torch.randn(2, 1, *SHAPE))
    assert logits.shape == (2, 3)
    assert torch.isfinite(logits).all()


def test_unknown_backbone_fails_listing_close_matches():
    with pytest.raises(ConfigError) as error:
        _model(backbone="resnet19")
    message = str(error.value)
    assert "model.backbone: unknown backbone 'resnet19'" in message
    assert "resnet18" in message.split("close matches:")[1]


def test_convnext_tiny_cbam_is_a_timm_model_with_attention_after_the_last_two_stages():
    assert "convnext_tiny_cbam" in timm.list_models()
    model = timm.create_model("convnext_tiny_cbam", in_chans=1, num_classes=0)
    with_attention = [
        i
        for i, s in enumerate(model.stages)
        if isinstance(s, torch.nn.Sequential) and isinstance(s[-1], CBAM)
    ]
    assert with_attention == [2, 3]


def test_band_mlp_is_a_timm_model_sized_through_its_kwargs():
    assert "band_mlp" in timm.list_models()
    model = timm.create_model("band_mlp", img_size=SHAPE, hidden=[16, 8], num_classes=3)
    assert model.num_features == 8 and model(torch.randn(2, 1, *SHAPE)).shape == (2, 3)
    backbone = build_model(_model(backbone="band_mlp", hidden=[16, 8]), 3, SHAPE).backbone
    # the layout of model files trained before band_mlp became a timm model
    assert list(backbone.state_dict()) == ["1.weight", "1.bias", "4.weight", "4.bias"]
    assert backbone.state_dict()["1.weight"].shape == (16, 2 * SHAPE[0])


def test_band_mlp_sees_only_per_band_statistics():
    model = build_model(_model(backbone="band_mlp", hidden=[16, 8]), 3, SHAPE).eval()
    x = torch.randn(4, 1, *SHAPE)
    shuffled = x[..., torch.randperm(SHAPE[1])]  # same band means and stds, frames reordered
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(shuffled))
        assert not torch.allclose(model(x), model(x.flip(-2)))  # bands themselves matter


def test_pretrained_path_loads_a_three_channel_file_into_the_one_channel_model(tmp_path):
    source = timm.create_model("resnet10t")  # 3 input channels, 1000 classes, as timm ships
    weights = tmp_path / "resnet10t.pth"
    torch.save(source.state_dict(), weights)
    model = build_model(_model(backbone="resnet10t", pretrained=str(weights)), 3, SHAPE)
    stem = source.state_dict()["conv1.0.weight"]
    torch.testing.assert_close(
        model.backbone.state_dict()["conv1.0.weight"], stem.sum(dim=1, keepdim=True)
    )
    torch.testing.assert_close(
        model.backbone.state_dict()["layer4.0.conv1.weight"],
        source.state_dict()["layer4.0.conv1.weight"],
    )
    fresh = build_model(_model(backbone="resnet10t"), 3, SHAPE)
    assert not torch.equal(fresh.backbone.state_dict()["layer4.0.conv1.weight"], stem)


def test_missing_pretrained_file_names_the_key(tmp_path):
    config = _model(backbone="resnet10t", pretrained=str(tmp_path / "none.pth"))
    with pytest.raises(FileNotFoundError, match="model key `pretrained`"):
        build_model(config, 3, SHAPE)


def test_downloaded_weights_are_found_in_the_folder_the_workflow_gives(tmp_path):
    config = _model(backbone="convnext_tiny_cbam", pretrained=True)
    assert pretrained_file(config, tmp_path / "w") == tmp_path / "w/convnext_tiny.pth"
    with pytest.raises(ValueError, match="model key `pretrained`: true"):
        build_model(config, 3, SHAPE)  # the library has no weights folder of its own
    resolved = with_pretrained_file(config, str(tmp_path / "w/convnext_tiny.pth"))
    assert resolved["pretrained"] == str(tmp_path / "w/convnext_tiny.pth")
    assert config["pretrained"] is True  # the workflow's params stay as they were
    assert with_pretrained_file(_model(backbone="band_mlp"), None)["pretrained"] is False


@pytest.mark.parametrize("fusion", ["concat", "gate"])
def test_fusion_models_use_the_metadata_and_require_it(fusion):
    config = _model(backbone="band_mlp", metadata={"fusion": fusion})
    model = build_model(config, 3, SHAPE, metadata_width=5).eval()
    x = torch.randn(2, 1, *SHAPE)
    with torch.no_grad():
        a, b = model(x, torch.zeros(2, 5)), model(x, torch.ones(2, 5))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="fuses recording metadata"):
        model(x)


def test_multi_label_models_give_independent_probabilities():
    config = _model(backbone="band_mlp", multi_label=True, loss={"name": "bce"})
    model = build_model(config, 3, SHAPE).eval()
    with torch.no_grad():
        x = torch.randn(4, 1, *SHAPE)
        torch.testing.assert_close(model.probabilities(x), torch.sigmoid(model(x)))
    single = build_model(_model(backbone="band_mlp"), 3, SHAPE).eval()
    with torch.no_grad():
        torch.testing.assert_close(single.probabilities(x).sum(dim=1), torch.ones(4))


def test_multi_label_with_cross_entropy_is_a_config_error():
    with pytest.raises(ConfigError, match="model.loss.name: cross_entropy is single-label"):
        _model(backbone="band_mlp", multi_label=True)


def test_saved_weights_rebuild_the_same_model(tmp_path):
    config = _model(backbone="vit_small", head_width=16, metadata={"fusion": "gate"})
    model = build_model(config, 3, SHAPE, metadata_width=4).eval()
    encoder = {"spec": {}, "numeric": {}, "categories": {}, "width": 4}
    meta = {"classes": ["a", "b", "noise"], "model": config, "features": FEATURES}
    save_weights(tmp_path / "model.pt", model.state_dict(), {**meta, "metadata_encoder": encoder})
    loaded, checkpoint = load_weights(tmp_path / "model.pt", torch.device("cpu"))
    x, m = torch.randn(2, 1, *SHAPE), torch.randn(2, 4)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, m), model(x, m))
    assert checkpoint["classes"] == ["a", "b", "noise"]


def test_pretrained_vit_weights_are_resized_to_the_window(tmp_path):
    source = timm.create_model("vit_small_patch16_224")  # 224 x 224 pixels, as timm ships
    weights = tmp_path / "vit.pth"
    torch.save(source.state_dict(), weights)
    model = build_model(_model(backbone="vit_small", pretrained=str(weights)), 3, SHAPE)
    torch.testing.assert_close(
        model.backbone.state_dict()["blocks.0.attn.qkv.weight"],
        source.state_dict()["blocks.0.attn.qkv.weight"],
    )
    assert model.backbone.pos_embed.shape[1] == 1 + 2 * 2  # 32 x 32 padded: 2 x 2 patches


def test_timm_names_read_from_its_source_are_those_timm_lists():
    listed = set(timm.list_models()) - {"band_mlp", "vector_mlp", "convnext_tiny_cbam"}
    assert timm_source_names() == listed
    assert "resnet10t" in timm_source_names()


def test_an_unknown_backbone_names_close_timm_matches():
    check_backbone("resnet10t")
    with pytest.raises(ValueError, match="unknown backbone 'resnet10x'.*resnet10t"):
        check_backbone("resnet10x")
