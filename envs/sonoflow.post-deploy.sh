#!/usr/bin/env bash
# Snakemake runs this inside the new conda env, from the workflow's directory (the project
# root): install sonoflow's library from this checkout so that the scripts can import it.
set -euo pipefail
python -m pip install --no-deps -e .
