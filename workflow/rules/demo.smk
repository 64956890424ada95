rule make_demo_corpus:
    output:
        train=directory(f"{DEMO}/train"),
        benchmark=directory(f"{DEMO}/benchmark"),
        manifest=f"{DEMO}/manifest.json",
    log:
        "logs/make_demo_corpus/make_demo_corpus.log",
    benchmark:
        "benchmarks/make_demo_corpus/make_demo_corpus.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        demo=config["demo"],
    script:
        "../scripts/make_demo_corpus.py"
