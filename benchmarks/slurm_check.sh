#!/usr/bin/env bash
# Sweeps on a real single-node Slurm: starts Debian's slurmctld, slurmd and munged on
# 127.0.0.1 (tests/slurm_support.py), runs tests/test_slurm.py, stops them, and prints the
# duration. Needs root and `apt-get install slurm-wlm munge` (.ci/run installs them;
# the same tests run in CI as part of `python -m pytest`).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
python -m pytest -m slurm -v -p no:cacheprovider tests/test_slurm.py "$@"
echo "slurm check: $(($(date +%s) - started)) s"
