#!/usr/bin/env python3
"""The connectivity matrix the tutorial's way, on a star that is up: a `busybox nc -ll`
listener in every node, then `ip netns exec SRC nc -z -w1 ADDR 4444` for each ordered pair,
one after another, until every pair is done or LIMIT seconds have passed.

Like `nstopo test`, it first gives every pair a permanent neighbour entry (one `ip -n NODE
-batch` per node, timed): without them the kernel's ARP table (1,024 dynamic entries for the
whole machine) overflows from about 50 nodes on, and the loop crawls at ~20 pairs/s with
false failures. That would measure ARP, not the way of probing.

    tutorial_matrix.py NAME N LIMIT      prints: pairs_total pairs_probed reached seconds
"""
import subprocess
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ip_batch import addr, batch, mac  # noqa: E402


def main(name, n, limit):
    listeners = [subprocess.Popen(["ip", "netns", "exec", "%s-h%d" % (name, i + 1), "busybox", "nc", "-ll", "-p", "4444",
                                   "-e", "/bin/cat"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(n)]
    time.sleep(0.5)
    start = time.perf_counter()
    for i in range(n):
        batch(["neigh replace %s lladdr %s dev eth0 nud permanent" % (addr(j), mac(2 * j + 2)) for j in range(n) if j != i],
              "%s-h%d" % (name, i + 1))
    probed = reached = 0
    try:
        for s in range(n):
            for t in range(n):
                if s == t:
                    continue
                if time.perf_counter() - start > limit:
                    raise StopIteration
                r = subprocess.run(["ip", "netns", "exec", "%s-h%d" % (name, s + 1), "nc", "-z", "-w1", addr(t), "4444"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                probed += 1
                reached += r.returncode == 0
    except StopIteration:
        pass
    seconds = time.perf_counter() - start
    for p in listeners:
        p.kill()
        p.wait()
    print(n * (n - 1), probed, reached, "%.3f" % seconds)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
