#!/usr/bin/env python3
"""What a careful person writes by hand with iproute2: the same kernel objects as
`nstopo up` for a star of N hosts on one bridge (namespaces, veths into one bridge namespace
with their peers created in place, one queue per veth end, fixed MACs, a bridge without
multicast snooping, addresses, links and loopbacks up; like `nstopo up`, no permanent
neighbours), with as few `ip` processes as iproute2 allows: one `ip -batch` for
the namespaces, one `ip -n BRIDGES -batch`, and one `ip -n NODE -batch` per node (batch lines
cannot carry -n). IPv6 is switched off per namespace like nstopo does, which needs one
`ip netns exec ... sysctl` per namespace (skip it with --keep-ipv6).

    ip_batch.py up NAME N [--keep-ipv6]     build
    ip_batch.py down NAME N                 delete, and wait until the kernel released the veths
"""
import subprocess
import sys
import time


def mac(i):
    return "02:be:%02x:%02x:%02x:%02x" % ((i >> 24) & 0xFF, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF)


def addr(i):
    v = (10 << 24) | (222 << 16) | (i + 1)
    return "%d.%d.%d.%d" % (v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)


def batch(lines, ns=None, force=False):
    """`force`: go on past lines that fail (a star half built by a killed run), and say nothing."""
    cmd = ["ip"] + (["-force"] if force else []) + (["-n", ns] if ns else []) + ["-batch", "-"]
    subprocess.run(cmd, input="\n".join(lines) + "\n", text=True, check=not force,
                   stderr=subprocess.DEVNULL if force else None)


def up(name, n, keep_ipv6):
    nodes = ["%s-h%d" % (name, i + 1) for i in range(n)]
    batch(["netns add %s" % name] + ["netns add %s" % x for x in nodes])
    if not keep_ipv6:
        for ns in [name] + nodes:
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                            "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], check=True)
    lines = ["link set lo up", "link add sw type bridge mcast_snooping 0", "link set sw up"]
    for i, ns in enumerate(nodes):
        lines.append("link add h%d-eth0 numtxqueues 1 numrxqueues 1 address %s master sw up type veth peer name eth0"
                     " numtxqueues 1 numrxqueues 1 address %s netns %s" % (i + 1, mac(2 * i + 1), mac(2 * i + 2), ns))
    batch(lines, name)
    for i, ns in enumerate(nodes):
        batch(["link set lo up", "link set eth0 up", "addr add %s/16 dev eth0" % addr(i)], ns)


def down(name, n):
    nodes = ["%s-h%d" % (name, i + 1) for i in range(n)]
    batch(["netns del %s" % x for x in nodes], force=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        out = subprocess.run(["ip", "-n", name, "-o", "link", "show", "type", "veth"], capture_output=True, text=True).stdout
        if not out.strip():
            break
        time.sleep(0.002)
    batch(["netns del %s" % name], force=True)


if __name__ == "__main__":
    op, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if op == "up":
        up(name, n, "--keep-ipv6" in sys.argv)
    else:
        down(name, n)
