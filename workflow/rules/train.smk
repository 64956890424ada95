def train_inputs(wildcards):
    inputs = experiment_data(wildcards)
    if is_tuned(wildcards.experiment):
        inputs["best_params"] = (
            f"results/tuning/{wildcards.experiment}/best_params.json"
        )
    return inputs


def fold_checkpoint(wildcards, output):
    """Outside the rule's outputs, so that a failed or killed job's progress survives:
    results/checkpoints/, found from results/models/{experiment}/fold{fold}/model.pt."""
    results = Path(output.model).parents[3]
    fold = f"fold{wildcards.fold}.pt"
    return str(results / "checkpoints" / wildcards.experiment / fold)


# On the submitting host: cluster compute nodes are often offline. (`localrule:` rather than
# a `localrules:` list, which would miss the rule's new name where sonoflow is a module.)
rule download_weights:
    output:
        f"{WEIGHTS}/{{weights}}.pth",
    log:
        "logs/download_weights/{weights}.log",
    benchmark:
        "benchmarks/download_weights/{weights}.tsv"
    localrule: True
    conda:
        "../../envs/sonoflow.yaml"
    script:
        "../scripts/download_weights.py"


rule train_fold:
    input:
        unpack(train_inputs),
    output:
        model=FOLD_MODEL,
        history=FOLD_HISTORY,
        results=FOLD_RESULTS,
    log:
        "logs/train_fold/{experiment}.fold{fold}.log",
    benchmark:
        "benchmarks/train_fold/{experiment}.fold{fold}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        features=experiment_features,
        model=experiment_model,
        labels=config["corpus"]["labels"],
        cv=config["cv"],
        checkpoint=fold_checkpoint,
        metadata=training_metadata,
    script:
        "../scripts/train_fold.py"
