from sonoflow.common.gpu import claim_gpu, describe_device

claim_gpu()  # before anything touches CUDA

from pathlib import Path

from sonoflow.common.logs import log_to
from sonoflow.detection.shard import ScoringSettings, detect_shard

log = log_to(snakemake.log[0])
log.info("device: %s", describe_device())
run = snakemake.params.run
root = Path(run["recordings"])
recordings = [Path(p).relative_to(root).as_posix() for p in snakemake.input.recordings]
log.info("shard %s of %d: %d recordings", snakemake.wildcards.shard, run["shards"], len(recordings))
result = detect_shard(
    root,
    recordings,
    [Path(p) for p in snakemake.input.models],
    snakemake.params.work,
    snakemake.output.scores,
    snakemake.output.status,
    ScoringSettings.from_config(run),
    threads=snakemake.threads,
    metadata_key=f"detect.{snakemake.wildcards.name}.metadata",
    channel_key=f"detect.{snakemake.wildcards.name}.channel",
    compile=run["compile"],
)
log.info(
    "%d scored now, %d from an earlier run, %d skipped",
    len(result.scored),
    len(result.reused),
    len(result.skipped),
)
