from sonoflow.common.gpu import claim_gpu, describe_device

claim_gpu()  # before anything touches CUDA

from pathlib import Path

from sonoflow.common.atomic import atomic_path, write_json
from sonoflow.common.device import describe_device_short, pick_device
from sonoflow.common.logs import log_to
from sonoflow.common.shards import shard_recordings
from sonoflow.corpus.audio import duration_s, list_recordings
from sonoflow.prediction.predict import predict_recordings

log = log_to(snakemake.log[0])
log.info("device: %s", describe_device())
bench = snakemake.params.benchmark
shard = int(snakemake.wildcards.shard)
# Sharded as detection is (sonoflow.common.shards): by a hash of the file name.
every = {path.name: path for path in list_recordings(bench["recordings"])}
recordings = [every[name] for name in shard_recordings(list(every), shard, bench["shards"])]
log.info("shard %d of %d: %d recordings", shard, bench["shards"], len(recordings))
scores = predict_recordings(
    recordings,
    [Path(p) for p in snakemake.input.models],
    hop_s=bench["hop_s"],
    batch_size=bench["batch_size"],
    threads=snakemake.threads,
    channel=bench["channel"],
    block_s=bench["block_s"],
    metadata_csv=bench["metadata"],
    metadata_key=f"benchmarks.{snakemake.wildcards.benchmark}.metadata",
    compile=bench["compile"],
    channel_key=f"benchmarks.{snakemake.wildcards.benchmark}.channel",
)  # logs its start-up time (process start to first batch)
with atomic_path(snakemake.output.scores) as tmp:
    scores.to_parquet(tmp, index=False)
log.info("%d windows over %d recordings", len(scores), scores["recording"].nunique())
# what the job ran on and how much audio it scored: the cost columns of the leaderboard
device = pick_device()
run = {
    "device": device.type,
    "device_name": describe_device_short(device),
    "recordings": len(recordings),
    "audio_s": sum(duration_s(p) for p in recordings),
}
write_json(snakemake.output.run, run)
