#!/usr/bin/python3
"""Mininet on the same star as nstopo's bench: N hosts on one Linux bridge (LinuxBridge, no
controller). Measures build (net.start), pingAll (ICMP, one ping per pair) and stop.
Mininet raises machine-wide sysctls (gc_thresh*, buffer maxima, file-max) and never lowers
them; this script saves them first and restores them afterwards.

    /usr/bin/python3 mininet_star.py N      prints {"build": s, "pingall": s, "stop": s, "loss": %}
"""
import json
import subprocess
import sys
import time

KEYS = ["net.ipv4.neigh.default.gc_thresh1", "net.ipv4.neigh.default.gc_thresh2",
        "net.ipv4.neigh.default.gc_thresh3", "net.ipv6.neigh.default.gc_thresh1",
        "net.ipv6.neigh.default.gc_thresh2", "net.ipv6.neigh.default.gc_thresh3",
        "net.core.wmem_max", "net.core.rmem_max", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
        "net.core.netdev_max_backlog", "fs.file-max", "kernel.pty.max"]


def sysctl(key):
    return subprocess.run(["sysctl", "-n", key], capture_output=True, text=True).stdout.strip()


def main(n):
    from mininet.log import setLogLevel
    from mininet.net import Mininet
    from mininet.nodelib import LinuxBridge
    from mininet.topo import SingleSwitchTopo
    saved = {k: sysctl(k) for k in KEYS}
    setLogLevel("error")
    try:
        t0 = time.perf_counter()
        net = Mininet(topo=SingleSwitchTopo(k=n), switch=LinuxBridge, controller=None, autoSetMacs=True)
        net.start()
        t1 = time.perf_counter()
        loss = net.pingAll(timeout=1)
        t2 = time.perf_counter()
        net.stop()
        t3 = time.perf_counter()
    finally:
        for k, v in saved.items():
            if v:
                subprocess.run(["sysctl", "-qw", "%s=%s" % (k, v)])
    print(json.dumps({"build": t1 - t0, "pingall": t2 - t1, "stop": t3 - t2, "loss": loss}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
