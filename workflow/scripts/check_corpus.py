from sonoflow.check_corpus import check_corpus, summary, write_report
from sonoflow.logs import log_to

log = log_to(snakemake.log[0])
problems = check_corpus(snakemake.params.corpus)
write_report(problems, snakemake.output[0])
log.info("%s", summary(problems))
