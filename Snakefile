import os

from snakemake.utils import min_version

from sonoflow.common.schema import read_config_file
from sonoflow.common.signals import forward_sigint_to_children
from sonoflow.config import validate_config

min_version("9.0")

# A YAML syntax error with its line and column, before Snakemake's message without them.
if Path("config.yaml").exists():
    read_config_file("config.yaml")


# Ignored where sonoflow is another workflow's module that passes its own `config:`.
configfile: "config.yaml"


# Files of the workflow itself are found from this file, so that another workflow can use
# sonoflow through Snakemake's `module` directive (docs/reuse.md).
validate_config(config, workflow.source_path("workflow/schemas/config.schema.yaml"))
# Set, not read: the conda env's post-deploy script installs sonoflow's library from this
# folder, wherever Snakemake runs (for a module, the working directory is the other workflow's).
os.environ.update(SONOFLOW_SOURCE=str(workflow.current_basedir))
# SIGINT to this process alone reaches local jobs as SIGTERM, so that a training fold stops
# and keeps its checkpoint (src/sonoflow/common/signals.py); cluster jobs Snakemake cancels.
if workflow.is_main_process:
    forward_sigint_to_children(only_if=lambda: workflow.local_exec)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/functions/assess.smk"
include: "workflow/rules/functions/cache.smk"
include: "workflow/rules/functions/datasets.smk"
include: "workflow/rules/functions/detect.smk"
include: "workflow/rules/functions/evaluate.smk"
include: "workflow/rules/functions/export.smk"
include: "workflow/rules/functions/predict.smk"
include: "workflow/rules/functions/review.smk"
include: "workflow/rules/functions/summarize.smk"
include: "workflow/rules/functions/train.smk"
include: "workflow/rules/functions/tune.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/cache.smk"
include: "workflow/rules/tune.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/assess.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/summarize.smk"
include: "workflow/rules/detect.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/review.smk"
include: "workflow/rules/check_gpu.smk"


rule all:
    default_target: True
    input:
        summary_outputs(),
        dataset_outputs(),
        detect_outputs(),
        review_outputs(),
        calibrate_outputs(),
