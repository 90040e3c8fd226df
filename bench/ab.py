#!/usr/bin/env python3
"""A/B of two nstopo binaries in one sitting, alternating run by run (A B A B ...), on the
figures `make bench` tracks: up and down of star-1000, test of star-100, validate of a
star-10000 file and of a 100-byte `expect * -> *` over 2,000 nodes. For a change that must
not regress a figure: build the commit before it somewhere else, then

    bench/ab.py OLD_BINARY NEW_BINARY [--runs N]

Prints medians with min-max per figure and the new/old ratio. Uses run.py's settle().
"""
import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import fmt, star, timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="nstopo-ab-")
    big, small, huge, pairs = (os.path.join(tmp, n) for n in ("big.topo", "small.topo", "huge.topo", "pairs.topo"))
    star(big, "abstar1000", 1000)
    star(small, "abstar100", 100)
    star(huge, "abstar10000", 10000)
    with open(pairs, "w") as f:
        f.write("topology abpairs\nsubnet lan[1..2] 10.$i.0.0/16\nbridge sw[1..2] lan$i\nnode h[1..2]x[1..1000]\n  link sw$i\nexpect * -> * reach\n")
    figures = {}
    for _ in range(a.runs):
        for label, binary in (("old", a.old), ("new", a.new)):
            def add(key, value):
                figures.setdefault((key, label), []).append(value)
            add("up star-1000", timed([binary, "up", big])[0])
            add("down star-1000", timed([binary, "down", "abstar1000"])[0])
            timed([binary, "up", small])
            wall, rss, _ = timed([binary, "test", "abstar100"])
            add("test star-100", wall)
            timed([binary, "down", "abstar100"])
            add("validate star-10000", timed([binary, "validate", huge])[0])
            wall, rss, _ = timed([binary, "validate", pairs])
            add("validate expect * -> * (2,000 nodes)", wall)
            add("validate expect * -> * (2,000 nodes) RSS", rss)
    keys = []
    for k, _ in figures:
        if k not in keys:
            keys.append(k)
    print("| figure | old | new | new/old |\n|---|---|---|---|")
    for k in keys:
        unit = "MB" if k.endswith("RSS") else "s"
        o, n = figures[(k, "old")], figures[(k, "new")]
        print("| %s | %s | %s | %.2fx |" % (k, fmt(o, unit), fmt(n, unit), statistics.median(n) / statistics.median(o)))


if __name__ == "__main__":
    main()
