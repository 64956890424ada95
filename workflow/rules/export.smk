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
        "results/export/{e}/detector.{x}", e=EXPERIMENTS, x=["torchscript", "json"]
    )


rule export_model:
    input:
        unpack(export_model_inputs),
    output:
        model="results/export/{experiment}/detector.torchscript",
        info="results/export/{experiment}/detector.json",
    log:
        "logs/export_model/{experiment}.log",
    benchmark:
        "benchmarks/export_model/{experiment}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        benchmarks=list(config["benchmarks"]),
    script:
        "../scripts/export_model.py"


# A target, not part of `all`: `snakemake export_models` exports every experiment.
rule export_models:
    input:
        export_outputs(),
