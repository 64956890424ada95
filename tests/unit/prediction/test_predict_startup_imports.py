"""A predict job of a vector model imports none of what only other jobs or models need:
timm (torchvision with it), torch._dynamo, librosa (numba), scikit-learn, matplotlib, optuna,
onnxruntime. Their imports were most of a short job's start-up."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]
SCRIPT = ROOT / "workflow/scripts/predict.py"
HEAVY = ("timm", "torchvision", "torch._dynamo", "librosa", "numba", "sklearn", "matplotlib")
HEAVY += ("optuna", "onnxruntime")

# After the script's own imports: what its job does for a vector MLP over statistics, from
# a model file to the scores of a short recording.
JOB = """
import json, sys
import numpy as np, soundfile as sf
from sonoflow.features.registry import input_shape
from sonoflow.models.build import build_model
from sonoflow.models.config import model_with_defaults
from sonoflow.models.weights import save_weights

features = {"type": "statistics", "sample_rate": 16000, "window_s": 0.5, "hop_s": 0.1,
            "n_fft": 512, "hop_length": 160, "n_bins": 32}
config = model_with_defaults({"backbone": "mlp", "hidden": [8]})
model = build_model(config, 2, input_shape(features))
info = {"classes": ["a", "b"], "model": config, "features": features}
save_weights(sys.argv[1] + "/model.pt", model.state_dict(), info)
sf.write(sys.argv[1] + "/tape.wav", np.zeros(16000 * 3, np.float32) + 0.01, 16000)
scores = predict_recordings([Path(sys.argv[1] + "/tape.wav")], [Path(sys.argv[1] + "/model.pt")],
                            hop_s=0.5)
assert len(scores) > 0, scores
heavy = {heavy!r}
loaded = [m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy)]
print(json.dumps(sorted(loaded)))
"""


def script_imports() -> str:
    lines = SCRIPT.read_text().splitlines()
    return "\n".join(line for line in lines if line.startswith(("from ", "import ")))


def test_vector_mlp_predict_job_imports_nothing_heavy(tmp_path):
    code = script_imports() + JOB.replace("{heavy!r}", repr(HEAVY))
    assert "predict_recordings" in script_imports()
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
