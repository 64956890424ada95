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
        TRAIN_BENCHMARK
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
