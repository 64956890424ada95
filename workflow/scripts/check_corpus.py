from sonoflow.common.logs import log_to
from sonoflow.corpus.check import check_corpus, summary, write_report

log = log_to(snakemake.log[0])
problems = check_corpus(snakemake.params.corpus, snakemake.params.demo)
write_report(problems, snakemake.output[0])
log.info("%s", summary(problems))
