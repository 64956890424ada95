# --- calibrate: verdicts -> P(correct), precision, call rates (i21-calib) --------------


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


# --- end calibrate ----------------------------------------------------------------------
