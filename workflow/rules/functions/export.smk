# Input and params functions of the rules in workflow/rules/export.smk.

# --- export of an experiment's fold ensemble ----------------------------------------------


def export_model_inputs(wildcards):
    return {
        "models": expand(FOLD_MODEL, experiment=wildcards.experiment, fold=FOLDS),
        "metrics": expand(
            METRICS,
            experiment=wildcards.experiment,
            benchmark=config["benchmarks"],
        ),
    }


def export_outputs():
    return expand(
        "results/export/{e}/detector.{x}",
        e=EXPERIMENTS,
        x=["torchscript", "json", "onnx"],
    )
