from sonoflow.common.logs import log_to
from sonoflow.models.weights import download_weights

log = log_to(snakemake.log[0])
download_weights(snakemake.wildcards.weights, snakemake.output[0])
log.info("timm weights of %s saved to %s", snakemake.wildcards.weights, snakemake.output[0])
