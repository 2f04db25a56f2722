#!/usr/bin/env bash
# Every extra in pyproject.toml, installed for real: one fresh venv per extra
# (`python -m venv`, `pip install ".[extra]"` from a copy of the checkout), then the
# command the docs give for it. Prints PASS/FAIL per extra and exits non-zero if any failed.
#
#   benchmarks/fresh_venv_extras.sh                  # every extra, and the core install
#   benchmarks/fresh_venv_extras.sh sweep calibrate  # just these ("core": no extra)
#
# Needs network access to PyPI (or a configured index); pip's cache makes a second run
# quick. Venvs and the copy go to a temporary folder (KEEP=1 keeps it); the checkout is
# not written to. tests/test_extras.py is the fast, offline half of this check.
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fresh-venv-extras.XXXXXX")"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

# The command the docs give for each extra (README.md, docs/*.md, docs/tutorial.ipynb).
check_for() {
    case "$1" in
        core) echo 'diffusion-sim --version && diffusion-sim run --help >/dev/null && diffusion-sim validate embedded' ;;
        dashboard) echo 'diffusion-sim dashboard --help >/dev/null && python -c "import diffusion_sim.app, solara"' ;;
        notebook) echo 'jupyter lab --version && python -c "import ipykernel, diffusion_sim"' ;;
        docs) echo 'python -c "import nbclient, nbformat, ipykernel"' ;;
        sweep) echo 'diffusion-sim sweep --help >/dev/null && diffusion-sim analyze --help >/dev/null && python -c "import diffusion_sim.studies.sweep.runner, diffusion_sim.studies.sweep._worker, diffusion_sim.studies.sweep.analyze, diffusion_sim.studies.sweep.design, dask_jobqueue"' ;;
        bench) echo 'python -c "import ndlib.models.epidemics"' ;;
        calibrate) echo 'diffusion-sim calibrate --help >/dev/null && python -c "import pyabc"' ;;
        test) echo 'python -m pytest --version && ruff --version && python -c "import hypothesis, psutil, playwright, distributed, SALib, ema_workbench, pyabc, nbclient"' ;;
        *) echo "echo 'no documented command for extra $1' && false" ;;
    esac
}

if [ $# -gt 0 ]; then
    EXTRAS=("$@")
else
    mapfile -t EXTRAS < <("$PYTHON" -c '
import tomllib
with open("'"$ROOT"'/pyproject.toml", "rb") as f:
    print("core")
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]))')
fi

# A clean copy: no build/ or egg-info of the checkout's editable install leaks in.
mkdir -p "$WORK/src"
tar -C "$ROOT" --exclude=.git --exclude=.venv --exclude=build --exclude='*.egg-info' \
    --exclude=results --exclude=__pycache__ --exclude=.pytest_cache --exclude=.ruff_cache \
    -cf - . | tar -C "$WORK/src" -xf -

declare -A RESULT
for extra in "${EXTRAS[@]}"; do
    venv="$WORK/venv-$extra"
    log="$WORK/$extra.log"
    target="."
    [ "$extra" = core ] || target=".[$extra]"
    start=$SECONDS
    echo "== $extra: pip install \"$target\""
    if "$PYTHON" -m venv "$venv" >"$log" 2>&1 \
        && (cd "$WORK/src" && "$venv/bin/python" -m pip install --disable-pip-version-check -q "$target") >>"$log" 2>&1 \
        && (cd "$WORK" && PATH="$venv/bin:$PATH" bash -c "$(check_for "$extra")") >>"$log" 2>&1; then
        RESULT[$extra]="PASS ($((SECONDS - start)) s)"
    else
        RESULT[$extra]="FAIL ($((SECONDS - start)) s; log: $log)"
        tail -n 15 "$log" | sed 's/^/    /'
        trap - EXIT  # keep the logs of a failure
    fi
    echo "   ${RESULT[$extra]}"
    rm -rf "$venv"  # disk: one venv at a time
done

echo
echo "extra        result"
failed=0
for extra in "${EXTRAS[@]}"; do
    printf '%-12s %s\n' "$extra" "${RESULT[$extra]}"
    case "${RESULT[$extra]}" in FAIL*) failed=1 ;; esac
done
exit $failed
