localrules:
    download_weights,


# On the submitting host: cluster compute nodes are often offline.
rule download_weights:
    output:
        "resources/weights/{weights}.pth",
    log:
        "logs/download_weights/{weights}.log",
    benchmark:
        "benchmarks/download_weights/{weights}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    script:
        "../scripts/download_weights.py"


rule train_fold:
    input:
        unpack(train_inputs),
    output:
        model="results/models/{experiment}/fold{fold}/model.pt",
        history="results/models/{experiment}/fold{fold}/history.csv",
        results="results/models/{experiment}/fold{fold}/results.json",
    log:
        "logs/train_fold/{experiment}.fold{fold}.log",
    benchmark:
        "benchmarks/train_fold/{experiment}.fold{fold}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    params:
        features=experiment_features,
        model=experiment_model,
        labels=config["corpus"]["labels"],
        cv=config["cv"],
        checkpoint=fold_checkpoint,
        metadata=training_metadata,
    script:
        "../scripts/train_fold.py"
