import json
from pathlib import Path

from sonoflow.common.logs import log_to
from sonoflow.tuning.report import write_report
from sonoflow.tuning.study import load_study

log = log_to(snakemake.log[0])
names = {json.loads(Path(p).read_text())["study"] for p in snakemake.input}
if len(names) != 1:
    raise RuntimeError(f"the workers' outputs name different studies {sorted(names)}; rerun them")
study = load_study(snakemake.params.journal, names.pop())
best = write_report(study, snakemake.params.tuning["trials"], dict(snakemake.output))
log.info(
    "%s (configured values: macro-F1 %.4f; chosen: trial %d, %.4f, %s)",
    best["note"],
    best["configured"]["value"],
    best["trial"],
    best["value"],
    best["params"],
)
