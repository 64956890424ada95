rule check_gpu:
    output:
        GPU_CHECK,
    log:
        "logs/check_gpu/check_gpu.log",
    benchmark:
        "benchmarks/check_gpu/check_gpu.tsv"
    conda:
        "../../envs/sonoflow.yaml"
    resources:
        gpu=1,
    script:
        "../scripts/check_gpu.py"
