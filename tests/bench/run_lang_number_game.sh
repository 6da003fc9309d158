#!/bin/sh
# run_lang_number_game.sh: the number game, whole process, nsr's Church
# interpreter against the WebPPL peer on the same model and examples.
#
#   tests/bench/run_lang_number_game.sh BUILD_DIR [PEER_DIR]
#
# BUILD_DIR holds tests/symbolic/lang/lang_run (the `nsr run` command); PEER_DIR is
# where webppl@0.9.15 is installed (default /tmp/peers) and
# ../shared/peers/numbergame.wppl (beside the checkout) is the peer program. Prints user+system
# CPU seconds of each (the machines are shared: wall time is noisy) and
# their ratio, for a few example sets.
set -eu
build=$1
peers=${2:-/tmp/peers}
here=$(cd "$(dirname "$0")/../.." && pwd)
peer=${NSR_PEER_WPPL:-$here/../shared/peers/numbergame.wppl}

cpu() { # prints the CPU seconds of a command, discarding its output
  /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{ print $1 + $2 }'
}

for x in 16,8,2,64 60 50,51,52 81,25,4,36; do
  nsr=$(cpu "$build/tests/symbolic/lang/lang_run" "$here/programs/number_game.church" -- $(echo "$x" | tr , ' '))
  wppl=$(cpu "$peers/node_modules/.bin/webppl" "$peer" -- --x "$x" --prior pmtk3)
  echo "X={$x} nsr ${nsr}s webppl ${wppl}s ratio $(echo "$wppl $nsr" | awk '{ printf "%.0f", $1 / ($2 > 0.005 ? $2 : 0.005) }')x"
done
