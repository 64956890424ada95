from pathlib import Path

from snakemake.utils import min_version

from sonoflow.common.schema import read_config_file
from sonoflow.config import validate_config

min_version("9.0")

# A YAML syntax error with its line and column, before Snakemake's message without them.
if Path("config.yaml").exists():
    read_config_file("config.yaml")


configfile: "config.yaml"


validate_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/cache.smk"
include: "workflow/rules/tune.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/assess.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/summarize.smk"
include: "workflow/rules/check_gpu.smk"


rule all:
    default_target: True
    input:
        summary_outputs(),
        dataset_outputs(),
