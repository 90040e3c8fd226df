#!/bin/sh
# `make install` into a temporary DESTDIR: the binary runs, the man page covers every command
# and the language and renders without a warning, and the completions of bash, zsh and fish
# complete topology files and node names (custom kinds). Leaves nothing behind.
set -eu
dest=$(mktemp -d /tmp/nstopo-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
make --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null
fail() { echo "check-install: $*" >&2; exit 1; }
bin="$dest/usr/bin/nstopo"
man="$dest/usr/share/man/man1/nstopo.1"
[ -x "$bin" ] || fail "no $bin"
"$bin" --version | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || fail "--version is not a version"
warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1) || fail "groff failed on the man page"
[ -z "$warnings" ] || fail "the man page has roff warnings: $warnings"
for c in validate plan up down status test exec shell rootfs graph predict why perf link node diff reset import export report; do
  grep -q "^\.SS $c\$" "$man" || fail "the man page lacks the command $c"
done
for s in "THE LANGUAGE" "EXIT STATUS" "TROUBLESHOOTING"; do
  grep -q "^\.SH $s" "$man" || fail "the man page lacks the section $s"
done
grep -q "scenario" "$man" || fail "the man page's language section lacks scenarios"
grep -q "^\.SH EXAMPLES" "$man" || fail "the man page lacks EXAMPLES"
[ -f "$dest/usr/share/doc/nstopo/examples/lab.topo" ] || fail "the examples the man page points at are not installed"
"$bin" validate -q "$dest"/usr/share/doc/nstopo/examples/*.topo >/dev/null 2>&1 || fail "an installed example does not validate"
bash_c="$dest/usr/share/bash-completion/completions/nstopo"
zsh_c="$dest/usr/share/zsh/site-functions/_nstopo"
fish_c="$dest/usr/share/fish/vendor_completions.d/nstopo.fish"
for f in "$bash_c" "$zsh_c" "$fish_c"; do
  [ -s "$f" ] || fail "no completion script $f"
  grep -q -- "---completion why" "$f" || fail "$f does not ask nstopo for node names"
done
grep -q "topo" "$bash_c" || fail "bash does not complete .topo files"
bash -n "$bash_c" || fail "the bash completion script does not parse"
# The custom kinds, asked the way the scripts ask: node names from a file, .topo files.
nodes=$("$bin" ---completion why -- positional@1 3 0 nstopo why topologies/two-lans.topo '' | tr '\n' ' ')
[ "$nodes" = "r1 a1 a2 b1 b2 " ] || fail "node names completed as '$nodes'"
files=$("$bin" ---completion test -- positional@0 2 14 nstopo test topologies/two)
[ "$files" = "topologies/two-lans.topo" ] || fail "files completed as '$files'"
echo "check-install: binary, man page and bash, zsh and fish completions install and work"
