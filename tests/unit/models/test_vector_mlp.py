"""The mlp backbone of vector front-ends."""

import pytest
import torch

from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.registry import pretrained_file


def test_mlp_standardises_the_vector_and_feeds_the_head():
    model = build_model(
        model_with_defaults({"backbone": "mlp", "hidden": [16, 8], "dropout": 0.0}), 3, (40, 1)
    )
    assert model.backbone.num_features == 8
    x = 100 + 30 * torch.randn(6, 1, 40, 1)  # dB-like values, far from unit scale
    model.train()
    model(x)
    torch.testing.assert_close(
        model.backbone.layers[0].running_mean, 0.1 * x.mean(dim=0).flatten(), rtol=1e-4, atol=1e-4
    )
    model.eval()
    assert model(x).shape == (6, 3)


def test_mlp_has_no_pretrained_weights():
    assert pretrained_file({"backbone": "mlp", "pretrained": True}, "resources/weights") is None
    with pytest.raises(ValueError, match="mlp has no pretrained weights"):
        from sonoflow.models.vector_mlp import vector_mlp

        vector_mlp(pretrained=True, img_size=(4, 1))
