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


rule calibrate:
    input:
        unpack(calibrate_inputs),
    output:
        calibration="results/review/{name}/calibration.csv",
        detections="results/review/{name}/detections_calibrated.csv",
        call_rates="results/review/{name}/call_rates.csv",
        calibration_plot=report(
            "results/review/{name}/calibration.png",
            caption="../report/calibration.rst",
            category="Review",
            labels={"review": "{name}", "figure": "calibration"},
        ),
        call_rates_plot=report(
            "results/review/{name}/call_rates.png",
            caption="../report/call_rates.rst",
            category="Review",
            labels={"review": "{name}", "figure": "call rates"},
        ),
    log:
        "logs/calibrate/{name}.log",
    benchmark:
        "benchmarks/calibrate/{name}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        settings=calibrate_params,
    script:
        "../scripts/calibrate.py"
