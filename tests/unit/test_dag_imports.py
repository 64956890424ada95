"""Building the DAG imports the sonoflow modules that the Snakefile and rule files name, and
nothing heavy through them (each of these costs a second or more per `snakemake -n`)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("librosa", "torch", "timm", "sklearn", "matplotlib", "optuna")


def dag_modules() -> list[str]:
    files = [ROOT / "Snakefile", *(ROOT / "workflow/rules").rglob("*.smk")]
    pattern = re.compile(r"^from (sonoflow\S*) import", re.M)
    return sorted({module for f in files for module in pattern.findall(f.read_text())})


def test_rule_files_import_sonoflow_modules():
    assert "sonoflow.config" in dag_modules()
    assert "sonoflow.corpus.suffixes" in dag_modules()


def test_building_the_dag_imports_nothing_heavy():
    code = (
        "import importlib, sys\n"
        f"for m in {dag_modules()!r}: importlib.import_module(m)\n"
        f"print(' '.join(h for h in {HEAVY!r} if h in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "", f"the DAG imports {result.stdout.strip()}"


def test_validating_a_config_with_a_timm_backbone_imports_no_timm():
    # .test/config.yaml's tiny model is resnet10t: a timm name, not a preset.
    code = (
        "import sys, yaml\n"
        "from sonoflow.config import validate_config\n"
        "config = yaml.safe_load(open('.test/config.yaml'))\n"
        "assert config['models']['tiny']['backbone'] == 'resnet10t'\n"
        "validate_config(config, 'workflow/schemas/config.schema.yaml')\n"
        f"print(' '.join(h for h in {HEAVY!r} if h in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "", f"validation imports {result.stdout.strip()}"
