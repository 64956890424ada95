from sonoflow.common.atomic import write_json
from sonoflow.common.logs import log_to
from sonoflow.corpus.demo import DemoSettings, make_demo_corpus

log = log_to(snakemake.log[0])
out_dir = snakemake.output.manifest.rsplit("/", 1)[0]
counts = make_demo_corpus(out_dir, DemoSettings.from_config(snakemake.params.demo))
log.info("demo corpus: %s", counts)
write_json(snakemake.output.manifest, {"settings": snakemake.params.demo, "calls": counts})
