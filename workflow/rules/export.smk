rule export_model:
    input:
        unpack(export_model_inputs),
    output:
        model="results/export/{experiment}/detector.torchscript",
        info="results/export/{experiment}/detector.json",
        onnx="results/export/{experiment}/detector.onnx",
    log:
        "logs/export_model/{experiment}.log",
    benchmark:
        "benchmarks/export_model/{experiment}.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    params:
        benchmarks=list(config["benchmarks"]),
    script:
        "../scripts/export_model.py"


# A target, not part of `all`: `snakemake export_models` exports every experiment that
# can be exported (not those over a vector front-end).
rule export_models:
    input:
        export_outputs(),
