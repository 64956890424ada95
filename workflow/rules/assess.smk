rule assess_experiment:
    input:
        unpack(fold_results),
    output:
        cv_summary="results/models/{experiment}/cv_summary.csv",
        tuning="results/models/{experiment}/tuning.json",
        test_metrics="results/models/{experiment}/test/metrics.json",
        per_class="results/models/{experiment}/test/per_class.csv",
        confusion="results/models/{experiment}/test/confusion.csv",
        mistakes="results/models/{experiment}/test/confident_mistakes.csv",
        learning_curves=report(
            "results/models/{experiment}/plots/learning_curves.png",
            caption="../report/learning_curves.rst",
            category="Training",
            subcategory="{experiment}",
        ),
        confusion_plot=report(
            "results/models/{experiment}/plots/confusion_matrix.png",
            caption="../report/confusion_matrix.rst",
            category="Test split",
            subcategory="{experiment}",
        ),
        per_class_plot=report(
            "results/models/{experiment}/plots/per_class.png",
            caption="../report/per_class.rst",
            category="Test split",
            subcategory="{experiment}",
        ),
        probability_plot=report(
            "results/models/{experiment}/plots/probabilities.png",
            caption="../report/probabilities.rst",
            category="Test split",
            subcategory="{experiment}",
        ),
    log:
        "logs/assess_experiment/{experiment}.log",
    benchmark:
        "benchmarks/assess_experiment/{experiment}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    threads: 2
    params:
        metadata=training_metadata,
    script:
        "../scripts/assess_experiment.py"
