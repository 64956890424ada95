# Input and params functions of the rules in workflow/rules/export.smk.

from sonoflow.config import export_refusal

# --- export of an experiment's fold ensemble ----------------------------------------------


def export_model_inputs(wildcards):
    """The fold models and metrics; an experiment export_model would refuse after training
    (a vector front-end) stops the DAG here, naming the config key."""
    refusal = export_refusal(config, wildcards.experiment)
    if refusal is not None:
        key, why = refusal
        raise WorkflowError(f"config key {key}: {why}")
    return {
        "models": expand(FOLD_MODEL, experiment=wildcards.experiment, fold=FOLDS),
        "metrics": expand(
            METRICS,
            experiment=wildcards.experiment,
            benchmark=config["benchmarks"],
        ),
    }


def export_outputs():
    """Every experiment's export but those export_model_inputs refuses (vector front-ends)."""
    exportable = [e for e in EXPERIMENTS if export_refusal(config, e) is None]
    return expand(
        "results/export/{e}/detector.{x}",
        e=exportable,
        x=["torchscript", "json", "onnx"],
    )
