from sonoflow.common.atomic import write_json
from sonoflow.common.logs import log_to
from sonoflow.corpus.demo import DemoSettings, make_demo_corpus

log = log_to(snakemake.log[0])
demo = dict(snakemake.params.demo)
for key in ("tape_duration_s", "snr_db"):
    demo[key] = tuple(demo[key])
out_dir = snakemake.output.manifest.rsplit("/", 1)[0]
counts = make_demo_corpus(out_dir, DemoSettings(**demo))
log.info("demo corpus: %s", counts)
write_json(snakemake.output.manifest, {"settings": snakemake.params.demo, "calls": counts})
