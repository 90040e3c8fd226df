#!/bin/sh
# Fails when the test suite left any of its own kernel objects or state behind.
# Integration tests name every topology `nstt<pid>x<n>` so that only their objects match.
left=""
ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep '^nstt' || true)
[ -n "$ns" ] && left="$left namespaces: $ns;"
links=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^nstt' || true)
[ -n "$links" ] && left="$left links: $links;"
state=$(ls -d /run/nstopo/nstt* /run/nstopo/.nstt* 2>/dev/null || true)
[ -n "$state" ] && left="$left state: $state;"
mounts=$(grep -o '/run/netns/nstt[^ ]*' /proc/self/mountinfo 2>/dev/null || true)
anchors=$(ls -a /run/netns 2>/dev/null | grep "^\.nstopo-anchor-" || true)
[ -n "$anchors" ] && left="$left anchor files in /run/netns: $anchors;"
[ -n "$mounts" ] && left="$left mounts: $mounts;"
cg=$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'nstopo-nstt*' 2>/dev/null || true)
[ -n "$cg" ] && left="$left cgroups: $cg;"
if [ -n "$left" ]; then
  echo "leak check: FAILED: the tests left behind:$left" >&2
  exit 1
fi
echo "leak check: nothing left behind"
