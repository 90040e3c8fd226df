#!/usr/bin/env python3
"""make bench: nstopo against what people would use instead, measured in the same run.

For each star (10, 100, 1000 hosts on one bridge), runs alternate tool by tool (A B A B ...):
  A  nstopo up, nstopo test (full TCP matrix), nstopo down
  B  baselines/ip_batch.py up (the same kernel objects), the tutorial's matrix
     (ip netns exec ... nc -z, capped in time) for star-10 and star-100, ip_batch.py down
plus nstopo on a leaf-spine of about 100 nodes and `nstopo validate` of a star-10000 file. For
star-1000, also a dual-stack star-1000 (an IPv4 and an IPv6 subnet on the bridge, both families
probed: 1,998,000 probes), alternating with the IPv4-only one, against which it is reported.
Reports medians with min-max, peak RSS (/usr/bin/time), and nstopo/baseline ratios, to stdout
and bench/results/latest.md.

    run.py [--quick] [--runs N] [--peers]
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NSTOPO = os.path.join(ROOT, ".build", "release", "nstopo")
BASE = os.path.join(HERE, "baselines")


def cpu_times():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def settle(minimum=0.5, maximum=15.0, window=0.25, quiet=0.03):
    """Waits until the machine is idle (two windows under 3 % CPU in a row, at most 15 s), so
    that the kernel's background work from the previous step (freeing namespaces after
    `down`, RCU reclaim of a million neighbour entries) is not billed to the next one."""
    time.sleep(minimum)
    deadline = time.time() + maximum
    calm = 0
    while calm < 2 and time.time() < deadline:
        b0, t0 = cpu_times()
        time.sleep(window)
        b1, t1 = cpu_times()
        calm = calm + 1 if (b1 - b0) <= quiet * max(1, t1 - t0) else 0


def timed(cmd, check=True, **kw):
    """Wall seconds, peak RSS in MB and stdout of a command, via /usr/bin/time."""
    settle()
    with tempfile.NamedTemporaryFile("r") as f:
        start = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name] + cmd, capture_output=True, text=True, **kw)
        wall = time.perf_counter() - start
        if check and r.returncode not in (0, 1):
            sys.exit("bench: %s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
        rss = f.read().strip().splitlines()
        return wall, (int(rss[-1]) / 1024 if rss and rss[-1].isdigit() else 0.0), r.stdout


RULES = "  firewall input drop\n  allow input tcp 4444\n  allow input udp 4444\n  allow input icmp\n  deny input tcp 22\n  reject input tcp 23\n"


def star(path, name, n, dual=False, rules=False):
    with open(path, "w") as f:
        if n > 1000:
            # A bridge takes at most 1,023 ports: one LAN of 1,000 hosts per thousand.
            k = (n + 999) // 1000
            f.write("topology %s\nsubnet lan[1..%d] 10.$i.0.0/16\nbridge sw[1..%d] lan$i\nnode h[1..%d]x[1..1000]\n  link sw$i\n" % (name, k, k, k))
        elif rules:
            f.write("topology %s\nsubnet lan 10.222.0.0/16\nbridge sw lan\nnode h[1..%d]\n  link sw\n%s" % (name, n, RULES))
        elif dual:
            f.write("topology %s\nsubnet lan 10.222.0.0/16\nsubnet lan6 fd00:222::/64\nbridge sw lan lan6\nnode h[1..%d]\n  link sw\n" % (name, n))
        else:
            f.write("topology %s\nsubnet lan 10.222.0.0/16\nbridge sw lan\nnode h[1..%d]\n  link sw\n" % (name, n))


def leaf_spine(path, name, racks=4, hosts=24):
    with open(path, "w") as f:
        f.write("""topology %s
subnet rack[1..%d] 10.1.$i.0/24
subnet fabric 10.255.0.0/16
bridge tor[1..%d] rack$i
node leaf[1..%d]
  forward
  link tor$i eth0 10.1.$i.1
  link spine[1..2] fabric
  route default via spine1
node spine[1..2]
  forward
  route 10.1.[1..%d].0/24 via leaf$j
node h[1..%d]-[1..%d]
  link tor$i
  route default via leaf$i
scenario hosts-down
%s
scenario uplink-down
  link leaf1 spine1 down
scenario slow-uplink
  link leaf2 spine1 set rate 1mbit
""" % (name, racks, racks, racks, racks, racks, hosts,
       "\n".join("  link h%d-%d tor%d down" % (r, h, r) for r in (1, 2) for h in range(1, 6))))


class Figures:
    def __init__(self):
        self.data = {}

    def add(self, key, value):
        self.data.setdefault(key, []).append(value)

    def get(self, key):
        return self.data.get(key, [])


def fmt(values, unit="s", digits=3):
    if not values:
        return "–"
    med = statistics.median(values)
    sep = " " if unit else ""
    if len(values) == 1:
        return "%.*f%s%s" % (digits, med, sep, unit)
    return "%.*f%s%s (%.*f–%.*f)" % (digits, med, sep, unit, digits, min(values), digits, max(values))


def ratio(a, b):
    if not a or not b:
        return "–"
    return "%.2fx" % (statistics.median(a) / statistics.median(b))


def sweep(sizes):
    """Takes down what an earlier bench killed outright (SIGKILL, a stop hook's time limit)
    left behind: only the bench's own names. nstopo's through `down`, the baseline's (which
    nstopo never recorded) through its own `down`."""
    for name in ["nsb%d" % n for n in sizes] + ["nsbd%d" % n for n in sizes] + ["nsbr%d" % n for n in sizes] + ["nsbls"]:
        subprocess.run([NSTOPO, "down", name, "--missing-ok", "--quiet"], capture_output=True)
    present = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split())
    for n in sizes:
        name = "nsb%d" % n
        if name in present or any(x.startswith(name + "-h") for x in present):
            print("bench: removing the baseline's star-%d left by an earlier run" % n, file=sys.stderr)
            subprocess.run([sys.executable, os.path.join(BASE, "ip_batch.py"), "down", name, str(n)], capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="star-10 once: a smoke test")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peers", action="store_true", help="also Mininet (installs Debian's mininet)")
    ap.add_argument("--tutorial-limit", type=float, default=30.0)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root")
    sizes = [10] if args.quick else [10, 100, 1000]
    runs = 1 if args.quick else args.runs
    limit = 5.0 if args.quick else args.tutorial_limit
    sweep(sizes)
    tmp = tempfile.mkdtemp(prefix="nstopo-bench-")
    figs = Figures()
    notes = []

    for n in sizes:
        name = "nsb%d" % n
        path = os.path.join(tmp, "star-%d.topo" % n)
        star(path, name, n)
        dual_name = "nsbd%d" % n
        dual_path = os.path.join(tmp, "star-ds-%d.topo" % n)
        star(dual_path, dual_name, n, dual=True)
        rules_name = "nsbr%d" % n
        rules_path = os.path.join(tmp, "star-fw-%d.topo" % n)
        star(rules_path, rules_name, n, rules=True)
        for run in range(runs):
            order = ["nstopo", "baseline"] if run % 2 == 0 else ["baseline", "nstopo"]
            if n == 1000 and not args.quick:
                order = order + ["dual", "rules"] if run % 2 == 0 else ["rules", "dual"] + order
            for tool in order:
                # Whatever is brought up is taken down, also when a step fails or the run is
                # interrupted (a killed run once left the baseline's 101 namespaces behind).
                if tool in ("nstopo", "rules"):
                    w, m, _ = timed([NSTOPO, "predict", path if tool == "nstopo" else rules_path, "--no-color"])
                    figs.add((n, "predict", tool), w)
                if tool in ("nstopo", "dual", "rules"):
                    p, nm = {"nstopo": (path, name), "dual": (dual_path, dual_name), "rules": (rules_path, rules_name)}[tool]
                    w, m, _ = timed([NSTOPO, "up", p])
                    try:
                        figs.add((n, "up", tool), w)
                        figs.add((n, "up rss", tool), m)
                        w, m, out = timed([NSTOPO, "test", nm, "--no-color"])
                        figs.add((n, "test", tool), w)
                        figs.add((n, "test rss", tool), m)
                        pairs = n * (n - 1) * (2 if tool == "dual" else 1)
                        figs.add((n, "test pairs/s", tool), pairs / w)
                        summary = [l for l in out.splitlines() if " pairs" in l and " reached" in l and not l.startswith("neighbour resolution")]
                        if summary and ("%d reached" % pairs) not in summary[-1]:
                            notes.append("star-%d %s run %d: %s" % (n, tool, run + 1, summary[-1]))
                        if n == 1000 and tool == "nstopo":
                            # A link down at run time, and predict of the topology before and after it.
                            figs.add((n, "predict up before"), timed([NSTOPO, "predict", nm, "--no-color"])[0])
                            figs.add((n, "link down"), timed([NSTOPO, "link", nm, "h500", "sw", "down"])[0])
                            figs.add((n, "predict up after"), timed([NSTOPO, "predict", nm, "--no-color"])[0])
                            figs.add((n, "link up"), timed([NSTOPO, "link", nm, "h500", "sw", "up"])[0])
                    finally:
                        w, m, _ = timed([NSTOPO, "down", nm])
                    figs.add((n, "down", tool), w)
                else:
                    w, m, _ = timed([sys.executable, os.path.join(BASE, "ip_batch.py"), "up", name, str(n)])
                    try:
                        figs.add((n, "up", "baseline"), w)
                        if n <= 100:
                            _, _, out = timed([sys.executable, os.path.join(BASE, "tutorial_matrix.py"), name, str(n), str(limit)])
                            total, probed, reached, secs = out.split()
                            figs.add((n, "test pairs/s", "tutorial"), int(probed) / float(secs))
                            figs.add((n, "test", "tutorial"), float(secs) * int(total) / max(1, int(probed)))
                            if int(probed) < int(total):
                                notes.append("star-%d tutorial matrix: %s of %s pairs in %.0f s (time limit); its time is extrapolated"
                                             % (n, probed, total, float(secs)))
                    finally:
                        w, m, _ = timed([sys.executable, os.path.join(BASE, "ip_batch.py"), "down", name, str(n)])
                    figs.add((n, "down", "baseline"), w)

    if not args.quick:
        name = "nsbls"
        path = os.path.join(tmp, "leaf-spine.topo")
        leaf_spine(path, name)
        for run in range(runs):
            figs.add(("leaf-spine-102", "up", "nstopo"), timed([NSTOPO, "up", path])[0])
            try:
                w, m, _ = timed([NSTOPO, "test", name, "--no-color"])
                figs.add(("leaf-spine-102", "test", "nstopo"), w)
                # A scenario of 10 link changes, applied and reverted (the change's own time).
                r = subprocess.run([NSTOPO, "test", name, "--scenario", "hosts-down", "--no-color"], capture_output=True, text=True,
                                   env=dict(os.environ, NSTOPO_PROFILE="1"))
                changes = [float(l.split("total ")[1].split(" s")[0]) for l in r.stderr.splitlines() if l.startswith("change: scenario hosts-down")]
                if len(changes) == 2:
                    figs.add(("leaf-spine-102", "scenario apply"), changes[0])
                    figs.add(("leaf-spine-102", "scenario revert"), changes[1])
                if run == 0:
                    # Once: its uplink-down scenario waits ~80 s on paced re-probes (see the README).
                    w, m, _ = timed([NSTOPO, "test", name, "--all-scenarios", "--no-color"])
                    figs.add(("leaf-spine-102", "test all-scenarios"), w)
            finally:
                figs.add(("leaf-spine-102", "down", "nstopo"), timed([NSTOPO, "down", name])[0])

    path = os.path.join(tmp, "star-10000.topo")
    star(path, "nsb10000", 10000)
    for run in range(runs):
        w, m, _ = timed([NSTOPO, "validate", "-q", path])
        figs.add(("star-10000", "validate", "nstopo"), w)
        figs.add(("star-10000", "validate rss", "nstopo"), m)

    if args.peers:
        peers = os.path.join(HERE, "peers", "mininet_star.py")
        for n in [s for s in sizes if s <= 100]:
            for run in range(runs):
                out = subprocess.run(["/usr/bin/python3", peers, str(n)], capture_output=True, text=True)
                if out.returncode != 0:
                    notes.append("mininet star-%d failed: %s" % (n, out.stderr.strip()[-300:]))
                    break
                vals = json.loads(out.stdout.strip().splitlines()[-1])
                if vals.get("loss", 0) > 0:
                    notes.append("mininet star-%d: pingAll lost %.0f%% of its pings" % (n, vals["loss"]))
                for k in ("build", "pingall", "stop"):
                    figs.add((n, "mininet " + k, "mininet"), vals[k])

    lines = []
    lines.append("# nstopo benchmarks\n")
    lines.append("Machine: %d cores, kernel %s, %s. Date: %s. Release build. %d run(s) per figure, alternating tools; "
                 "median (min–max)." % (os.cpu_count(), platform.release(), platform.machine(),
                                        datetime.date.today().isoformat(), runs))
    lines.append("")
    lines.append("| topology | figure | nstopo | baseline | nstopo/baseline |")
    lines.append("|---|---|---|---|---|")
    for n in sizes:
        t = "star-%d" % n
        lines.append("| %s | up (wall) | %s | %s (ip -batch) | %s |" % (t, fmt(figs.get((n, "up", "nstopo"))), fmt(figs.get((n, "up", "baseline"))),
                     ratio(figs.get((n, "up", "nstopo")), figs.get((n, "up", "baseline")))))
        lines.append("| %s | down, until released | %s | %s (ip -batch) | %s |" % (t, fmt(figs.get((n, "down", "nstopo"))), fmt(figs.get((n, "down", "baseline"))),
                     ratio(figs.get((n, "down", "nstopo")), figs.get((n, "down", "baseline")))))
        tut = figs.get((n, "test", "tutorial"))
        lines.append("| %s | test, %d TCP pairs (wall) | %s | %s | %s |" % (t, n * (n - 1), fmt(figs.get((n, "test", "nstopo"))),
                     (fmt(tut) + " (ip netns exec nc -z)") if tut else "–", ratio(figs.get((n, "test", "nstopo")), tut)))
        lines.append("| %s | test pairs/s | %s | %s | |" % (t, fmt(figs.get((n, "test pairs/s", "nstopo")), "", 0),
                     fmt(figs.get((n, "test pairs/s", "tutorial")), "", 1) if tut else "–"))
        lines.append("| %s | peak RSS up / test | %s / %s | | |" % (t, fmt(figs.get((n, "up rss", "nstopo")), "MB", 1), fmt(figs.get((n, "test rss", "nstopo")), "MB", 1)))
        for k in ("build", "pingall", "stop"):
            v = figs.get((n, "mininet " + k, "mininet"))
            if v:
                lines.append("| %s | Mininet %s | | %s | |" % (t, k, fmt(v)))
    if figs.get((1000, "up", "dual")):
        t = "star-1000 dual-stack"
        v4 = "nstopo"
        lines.append("| %s | up (wall) | %s | %s (IPv4 only) | %s |" % (t, fmt(figs.get((1000, "up", "dual"))), fmt(figs.get((1000, "up", v4))),
                     ratio(figs.get((1000, "up", "dual")), figs.get((1000, "up", v4)))))
        lines.append("| %s | down, until released | %s | %s (IPv4 only) | %s |" % (t, fmt(figs.get((1000, "down", "dual"))), fmt(figs.get((1000, "down", v4))),
                     ratio(figs.get((1000, "down", "dual")), figs.get((1000, "down", v4)))))
        lines.append("| %s | test, 1998000 TCP probes (wall) | %s | %s (IPv4 only, 999000) | |" % (t, fmt(figs.get((1000, "test", "dual"))), fmt(figs.get((1000, "test", v4)))))
        lines.append("| %s | test probes/s | %s | %s (IPv4 only) | %s |" % (t, fmt(figs.get((1000, "test pairs/s", "dual")), "", 0), fmt(figs.get((1000, "test pairs/s", v4)), "", 0),
                     ratio(figs.get((1000, "test pairs/s", "dual")), figs.get((1000, "test pairs/s", v4)))))
        lines.append("| %s | peak RSS up / test | %s / %s | | |" % (t, fmt(figs.get((1000, "up rss", "dual")), "MB", 1), fmt(figs.get((1000, "test rss", "dual")), "MB", 1)))
    if figs.get((1000, "up", "rules")):
        t = "star-1000, 5 rules a host"
        v4 = "nstopo"
        lines.append("| %s | up (wall) | %s | %s (no rules) | %s |" % (t, fmt(figs.get((1000, "up", "rules"))), fmt(figs.get((1000, "up", v4))),
                     ratio(figs.get((1000, "up", "rules")), figs.get((1000, "up", v4)))))
        lines.append("| %s | predict, 999000 pairs | %s | %s (no rules) | %s |" % (t, fmt(figs.get((1000, "predict", "rules"))), fmt(figs.get((1000, "predict", v4))),
                     ratio(figs.get((1000, "predict", "rules")), figs.get((1000, "predict", v4)))))
        lines.append("| %s | test pairs/s | %s | %s (no rules) | %s |" % (t, fmt(figs.get((1000, "test pairs/s", "rules")), "", 0), fmt(figs.get((1000, "test pairs/s", v4)), "", 0),
                     ratio(figs.get((1000, "test pairs/s", "rules")), figs.get((1000, "test pairs/s", v4)))))
    if figs.get((1000, "link down")):
        t = "star-1000"
        lines.append("| %s | `nstopo link … down` (wall) | %s | – | |" % (t, fmt(figs.get((1000, "link down")))))
        lines.append("| %s | `nstopo link … up` (wall, until the link carries traffic) | %s | – | |" % (t, fmt(figs.get((1000, "link up")))))
        lines.append("| %s | predict of the topology up, after a link down | %s | %s (before it) | %s |" % (t, fmt(figs.get((1000, "predict up after"))), fmt(figs.get((1000, "predict up before"))),
                     ratio(figs.get((1000, "predict up after")), figs.get((1000, "predict up before")))))
    if not args.quick:
        for k in ("up", "test", "down"):
            lines.append("| leaf-spine-102 | %s | %s | – | |" % (k, fmt(figs.get(("leaf-spine-102", k, "nstopo")))))
        lines.append("| leaf-spine-102 | scenario of 10 link changes: apply / revert | %s / %s | – | |" % (fmt(figs.get(("leaf-spine-102", "scenario apply"))), fmt(figs.get(("leaf-spine-102", "scenario revert")))))
        lines.append("| leaf-spine-102 | test --all-scenarios (3) | %s | %s (test) | %s |" % (fmt(figs.get(("leaf-spine-102", "test all-scenarios"))), fmt(figs.get(("leaf-spine-102", "test", "nstopo"))),
                     ratio(figs.get(("leaf-spine-102", "test all-scenarios")), figs.get(("leaf-spine-102", "test", "nstopo")))))
    lines.append("| star-10000 | validate | %s | – | |" % fmt(figs.get(("star-10000", "validate", "nstopo"))))
    lines.append("| star-10000 | validate peak RSS | %s | – | |" % fmt(figs.get(("star-10000", "validate rss", "nstopo")), "MB", 1))
    lines.append("")
    lines.append("Baseline: `bench/baselines/ip_batch.py` builds the same kernel objects with one `ip -batch` per namespace "
                 "(iproute2 batch lines cannot carry `-n`), including one `ip netns exec … sysctl` per namespace to switch IPv6 "
                 "off as nstopo does. The tutorial's matrix is `bench/baselines/tutorial_matrix.py`.")
    for note in notes:
        lines.append("\n- " + note)
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.quick:
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        with open(os.path.join(HERE, "results", "latest.md"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
