#!/usr/bin/env bash
# Snakemake runs this inside the new conda env, from the working directory: install sonoflow's
# library so that the scripts can import it, from the checkout the Snakefile sets in
# SONOFLOW_SOURCE (also where sonoflow is another workflow's module), else from here.
set -euo pipefail
python -m pip install --no-deps -e "${SONOFLOW_SOURCE:-.}"
