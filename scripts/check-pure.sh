#!/bin/sh
# Fails when a module of the pure core imports anything it is not allowed to: an allow-list
# per module, so that the system (Glibc, Foundation, Dispatch), the C targets (CNetlink,
# CNftables, CShim) and the effectful modules (Netlink, Realizer, Probe…) stay out of the
# model, the language, the planner, the predictor, the renderers, the matrix and the fuzz
# harness, which build and test anywhere and take machine facts as arguments.
cd "$(dirname "$0")/.." || exit 1
allowed() {
  case "$1" in
    TopologyModel) echo "" ;;
    TopologyDSL | Planner | DOT | Matrix) echo "TopologyModel" ;;
    Predict) echo "TopologyModel TopologyDSL" ;;
    HTMLReport) echo "TopologyModel Matrix" ;;
    FuzzHarness) echo "TopologyModel TopologyDSL Planner Predict" ;;
  esac
}
pure="TopologyModel TopologyDSL Planner Predict DOT Matrix HTMLReport FuzzHarness"
bad=""
for m in $pure; do
  ok=" $(allowed "$m") "
  for f in "Sources/$m"/*.swift; do
    for i in $(sed -nE 's/^[[:space:]]*(@_exported[[:space:]]+|@testable[[:space:]]+|@_implementationOnly[[:space:]]+)?import[[:space:]]+(class |struct |enum |func |protocol |var |let )?([A-Za-z_][A-Za-z0-9_]*).*/\3/p' "$f"); do
      case "$ok" in
        *" $i "*) ;;
        *) bad="$bad
  $f imports $i (allowed in $m: $(allowed "$m" | sed 's/^$/nothing/'))" ;;
      esac
    done
  done
done
if [ -n "$bad" ]; then
  echo "pure-core check: FAILED:$bad" >&2
  exit 1
fi
echo "pure-core check: $pure import only what each is allowed"
