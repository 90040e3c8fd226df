#!/bin/sh
# Fails when a module of the pure core imports the system: the model, the language, the
# planner, the predictor, the renderer, the matrix and the fuzz harness stay free of Glibc, Foundation
# and the C targets, so they build and test anywhere and take machine facts as arguments.
cd "$(dirname "$0")/.." || exit 1
pure="TopologyModel TopologyDSL Planner Predict DOT Matrix HTMLReport FuzzHarness"
bad=""
for m in $pure; do
  hits=$(grep -lE '^[[:space:]]*(@_exported[[:space:]]+)?import[[:space:]]+(Glibc|Foundation|FoundationEssentials|CNetlink|CShim|Dispatch)\b' "Sources/$m"/*.swift 2>/dev/null)
  [ -n "$hits" ] && bad="$bad $hits"
done
if [ -n "$bad" ]; then
  echo "pure-core check: FAILED: these files of the pure core import the system:$bad" >&2
  exit 1
fi
echo "pure-core check: $pure import nothing of the system"
