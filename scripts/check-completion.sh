#!/bin/sh
# Tab completion never runs what a file or folder name says. bash, zsh and fish, each a real
# interactive shell under tmux with nstopo's generated completion loaded, complete
# `nstopo test ` in a folder of hostile names ($(…), backquotes, quotes, a newline, spaces,
# ${…}, ~); the only safe candidate must be completed and no command in a name may run.
# Usage: check-completion.sh NSTOPO_BINARY
set -eu
BIN=$(readlink -f "$1")
for tool in tmux bash zsh fish; do
  command -v "$tool" >/dev/null || { echo "check-completion: $tool is not installed (make test installs it)" >&2; exit 1; }
done
dir=$(mktemp -d /tmp/nstopo-completion.XXXXXX)
sock="nstopo-completion-$$"
cleanup() { tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
mkdir "$dir/bin" "$dir/work"
ln -s "$BIN" "$dir/bin/nstopo"
"$BIN" --generate-completion-script bash > "$dir/nstopo.bash"
"$BIN" --generate-completion-script zsh > "$dir/_nstopo"
"$BIN" --generate-completion-script fish > "$dir/nstopo.fish"
cd "$dir/work"
touch 'safe-one.topo' '$(touch PWNED-dollar).topo' '`touch PWNED-backquote`.topo' "it's.topo" 'sp ace.topo' \
  "$(printf 'new\nline.topo')" '${IFS}x.topo' '~x.topo' '"quoted".topo' '$(touch${IFS}PWNED-ifs).topo'
mkdir '$(touch PWNED-folder)' '`touch PWNED-folder2`'

failed=0
check() { # shell, command that starts it, lines that load the completion
  shell=$1
  start=$2
  shift 2
  rm -f PWNED*
  tmux -L "$sock" new-session -d -s "$shell" -x 200 -y 50 \
    "env -i HOME=$dir TERM=xterm PATH=$dir/bin:/usr/bin:/bin $start"
  for line in "$@" "cd $dir/work" "clear"; do
    tmux -L "$sock" send-keys -t "$shell" "$line" Enter
  done
  sleep 0.5
  tmux -L "$sock" send-keys -t "$shell" "nstopo test " Tab
  k=0
  # Bounded: at most 10 s for the shell to complete.
  while [ $k -lt 50 ]; do
    if tmux -L "$sock" capture-pane -p -t "$shell" | grep -q 'nstopo test safe-one.topo'; then break; fi
    sleep 0.2
    k=$((k + 1))
  done
  screen=$(tmux -L "$sock" capture-pane -p -t "$shell")
  tmux -L "$sock" kill-session -t "$shell"
  if ! printf '%s\n' "$screen" | grep -q 'nstopo test safe-one.topo'; then
    echo "check-completion: $shell did not complete safe-one.topo; the screen was:" >&2
    printf '%s\n' "$screen" >&2
    failed=1
  fi
  if ls PWNED* >/dev/null 2>&1; then
    echo "check-completion: $shell ran a command from a file name: $(ls PWNED*)" >&2
    failed=1
  fi
}

check bash "bash --norc --noprofile" "source $dir/nstopo.bash"
check zsh "zsh -f" "autoload -Uz compinit && compinit -u" "source $dir/_nstopo"
check fish "fish --no-config" "source $dir/nstopo.fish"
[ $failed = 0 ] || exit 1
echo "completion: bash, zsh and fish complete only safe names; no command in a name ran"
