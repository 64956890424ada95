from sonoflow.features.kinds import model_files


def cache_audio_params():
    corpus = config["corpus"]
    return {"channel": corpus["channel"], "bad_audio": corpus["bad_audio"]}


def frontend_files(wildcards):
    """The model files a front-end reads (VGGish weights, an ONNX model): replacing one
    reruns its cache and what depends on it."""
    features = resolved_features(config["features"], wildcards.features)
    return [local(path) for path in model_files(features)]


def features_params(wildcards):
    return resolved_features(config["features"], wildcards.features)


rule cache_spectrograms:
    input:
        corpus_files,
        frontend_files,
    output:
        index="results/cache/{features}/index.csv",
        spectrograms=directory("results/cache/{features}/spectrograms"),
    log:
        "logs/cache_spectrograms/{features}.log",
    benchmark:
        "benchmarks/cache_spectrograms/{features}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    params:
        recordings=job_recordings_dir,
        features=features_params,
        audio=cache_audio_params(),
    script:
        "../scripts/cache_spectrograms.py"
