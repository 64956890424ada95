from pathlib import Path

from sonoflow.common.logs import log_to
from sonoflow.detection.export import write_export

log = log_to(snakemake.log[0])
info = write_export(
    [Path(p) for p in snakemake.input.models],
    dict(zip(snakemake.params.benchmarks, snakemake.input.metrics)),
    snakemake.output.model,
    snakemake.output.info,
    snakemake.output.onnx,
)
log.info(
    "exported %d folds, classes %s, thresholds %s",
    len(info["folds"]),
    info["classes"],
    info["thresholds"],
)
