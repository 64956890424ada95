def summary_inputs(wildcards):
    return {
        "metrics": expand(
            METRICS,
            experiment=EXPERIMENTS,
            benchmark=config["benchmarks"],
        ),
        "per_tape": expand(
            METRICS_PER_TAPE,
            experiment=EXPERIMENTS,
            benchmark=config["benchmarks"],
        ),
        "histories": expand(FOLD_HISTORY, experiment=EXPERIMENTS, fold=FOLDS),
    }


def summary_outputs():
    return [
        "results/metrics.csv",
        "results/metrics_per_tape.csv",
        "results/leaderboard.csv",
        "results/plots/f1_by_threshold.png",
        "results/plots/pr_curves.png",
        "results/plots/per_tape_recall.png",
        "results/plots/recall_by_quality.png",
        "results/plots/training_history.png",
        "results/gpu_check.txt",
        *expand(
            "results/evaluation/{e}/{b}/excerpt.png",
            e=EXPERIMENTS,
            b=config["benchmarks"],
        ),
        *experiment_outputs(),
    ]


rule summarize:
    input:
        unpack(summary_inputs),
    output:
        metrics="results/metrics.csv",
        per_tape="results/metrics_per_tape.csv",
        leaderboard="results/leaderboard.csv",
        f1_plot=report(
            "results/plots/f1_by_threshold.png",
            caption="../report/f1_by_threshold.rst",
            category="Evaluation",
        ),
        pr_plot=report(
            "results/plots/pr_curves.png",
            caption="../report/pr_curves.rst",
            category="Evaluation",
        ),
        per_tape_plot=report(
            "results/plots/per_tape_recall.png",
            caption="../report/per_tape_recall.rst",
            category="Evaluation",
        ),
        quality_plot=report(
            "results/plots/recall_by_quality.png",
            caption="../report/recall_by_quality.rst",
            category="Evaluation",
        ),
        history_plot=report(
            "results/plots/training_history.png",
            caption="../report/training_history.rst",
            category="Training",
        ),
    log:
        "logs/summarize/summarize.log",
    benchmark:
        "benchmarks/summarize/summarize.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    script:
        "../scripts/summarize.py"
