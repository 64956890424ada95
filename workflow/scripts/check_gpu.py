from sonoflow.common.gpu import claim_gpu, describe_device

claim_gpu()  # before anything touches CUDA

import socket

from sonoflow.common.atomic import write_text
from sonoflow.common.logs import log_to

log = log_to(snakemake.log[0])
line = f"{socket.gethostname()}: {describe_device()}"
log.info(line)
write_text(snakemake.output[0], line + "\n")
