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


rule cache_reviewed:
    input:
        unpack(reviewed_cache_inputs),
    output:
        index=REVIEWED_CACHE,
        spectrograms=directory("results/cache/{features}/reviewed/{name}/spectrograms"),
    log:
        "logs/cache_reviewed/{features}.{name}.log",
    benchmark:
        "benchmarks/cache_reviewed/{features}.{name}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    params:
        recordings=review_recordings,
        channel=review_channel,
        features=features_params,
    script:
        "../scripts/cache_reviewed.py"
