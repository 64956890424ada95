rule review_sample:
    input:
        unpack(review_sample_inputs),
    output:
        # update: kept in place while the job runs, so a changed sample can be kept as
        # a version under results/review_history/ before the new one replaces it
        sample=update("results/review/{name}/sample.csv"),
        design=update("results/review/{name}/design.json"),
        tables=directory("results/review/{name}/tables"),
        clips=directory("results/review/{name}/clips"),
        page="results/review/{name}/index.html",
    log:
        "logs/review_sample/{name}.log",
    benchmark:
        "benchmarks/review_sample/{name}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        review=review_sample_params,
        recordings=review_recordings,
        channel=review_channel,
        history=review_history,
    script:
        "../scripts/review_sample.py"
