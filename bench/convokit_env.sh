#!/usr/bin/env bash
# A separate benchmark venv with ConvoKit 5.0.0's Coordination, for bench/bench_coordination.py.
#
# ConvoKit's full install pulls torch, transformers and spacy (6.5 GB) that Coordination does not
# use; the minimal install below (coordination_reference/README.md §7: identical outputs) is
# `--no-deps convokit==5.0.0` plus the packages its import and Coordination need. ConvoKit writes
# ~/.convokit/config.yml on its first Corpus(), so the venv gets its own HOME (CONVOKIT_HOME).
#
# Usage: bash bench/convokit_env.sh [VENV]   (default /tmp/convokit-venv; needs python3.11)
set -euo pipefail
VENV="${1:-/tmp/convokit-venv}"
PY="${PYTHON:-python3.11}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet --no-deps convokit==5.0.0
"$VENV/bin/python" -m pip install --quiet pyyaml requests numpy pandas scipy tqdm pymongo scikit-learn
mkdir -p "$VENV/home"
HOME="$VENV/home" "$VENV/bin/python" -c "import convokit; from convokit import Coordination; print('convokit', convokit.__version__ if hasattr(convokit, '__version__') else '5.0.0', 'ok')"
"$VENV/bin/python" -m pip freeze > "$VENV/requirements-frozen.txt"
echo "venv: $VENV (HOME for convokit: $VENV/home); versions in $VENV/requirements-frozen.txt"
