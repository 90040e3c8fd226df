#!/bin/sh
# make demo: bring the showcase up, test it, write its HTML report, draw it with the results,
# take it down.
# Leaves nothing behind, also on Ctrl-C.
set -eu
BIN=${1:-.build/release/nstopo}
TOPO=topologies/showcase.topo
cleanup() { "$BIN" down showcase --missing-ok >/dev/null 2>&1 || true; }
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT
[ -x rootfs/bin/busybox ] || "$BIN" rootfs rootfs
echo "== nstopo validate $TOPO"
"$BIN" validate "$TOPO"
echo "== nstopo up $TOPO"
"$BIN" up --replace "$TOPO"
echo "== nstopo status showcase"
"$BIN" status showcase
echo "== nstopo test showcase"
set +e
"$BIN" test showcase --json demo.json --html demo.html
rc=$?
set -e
"$BIN" graph showcase --results demo.json -o demo.svg >/dev/null
echo "== nstopo down showcase"
"$BIN" down showcase
echo
echo "the report (open it in a browser): $(pwd)/demo.html"
echo "the diagram with the measured results: $(pwd)/demo.svg (JSON: $(pwd)/demo.json)"
exit $rc
