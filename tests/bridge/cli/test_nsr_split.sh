#!/bin/sh
# test_nsr_split.sh MODE NSR NSR_FULL_INSTALLED: the two executables
# (bridge/cli/README.md, "Two executables").
#   needs:   the small nsr does not load the libraries only nsr-full uses
#            (its whole dependency tree, by ldd, else its own NEEDED entries
#            by readelf; skips with 77 when neither tool is there).
#   missing: nsr without nsr-full beside it (and none installed) still runs
#            Church and lists every command, and any other command fails
#            with one error line `nsr CMD: ...` and exit status 1.
#   exec:    commands run through nsr-full keep their output, error lines
#            and exit statuses.
set -u
mode=$1 nsr=$2 installed=$3
fail() { echo "FAIL: $*"; exit 1; }

# expect STATUS COMMAND...: runs it, keeps stdout in $out and stderr in $err.
expect() {
  want=$1; shift
  out=$("$@" 2>/tmp/nsr_split_err.$$); got=$?
  err=$(cat /tmp/nsr_split_err.$$); rm -f /tmp/nsr_split_err.$$
  [ "$got" = "$want" ] || fail "$* exited $got, not $want (stderr: $err)"
}

case $mode in
needs)
  if command -v ldd >/dev/null 2>&1; then
    deps=$(ldd "$nsr") || fail "ldd $nsr failed"
  elif command -v readelf >/dev/null 2>&1; then
    deps=$(readelf -d "$nsr" | grep NEEDED) || fail "readelf -d $nsr failed"
  else
    echo "neither ldd nor readelf: skipped"; exit 77
  fi
  for lib in libopenblas libgfortran libcurl libmpi libsqlite3 libgnutls; do
    case $deps in *"$lib"*) fail "$nsr loads $lib: $deps" ;; esac
  done
  case $deps in *libffi*) ;; *) fail "$nsr does not load libffi (the foreign form): $deps" ;; esac
  ;;
missing)
  [ -e "$installed" ] && { echo "$installed exists, so nsr would find it: skipped"; exit 77; }
  dir=$(mktemp -d) || fail "mktemp"
  trap 'rm -rf "$dir"' EXIT
  cp "$nsr" "$dir/nsr" || fail "cp"
  expect 0 "$dir/nsr" run -e '(+ 1 2)'
  [ "$out" = 3 ] || fail "run printed '$out'"
  expect 0 "$dir/nsr" help
  for cmd in numbers nn run repl train propose experiment extract rules sql store mcp tools agent; do
    printf '%s\n' "$out" | grep -q "^  $cmd " || fail "help does not list $cmd"
  done
  for argv in "numbers 16 8 2 64" "version" "help numbers" "store init"; do
    set -- $argv
    name=$1
    expect 1 "$dir/nsr" "$@"
    [ -z "$out" ] || fail "nsr $argv printed '$out' on stdout"
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "nsr $argv: not one error line: $err"
    case $err in "nsr $name: "*nsr-full*) ;; *) fail "nsr $argv: error line '$err'" ;; esac
  done
  ;;
exec)
  expect 0 "$nsr" numbers 16 8 2 64
  case $out in *"consistent: 2 rules"*) ;; *) fail "numbers printed '$out'" ;; esac
  expect 2 "$nsr" numbers --no-such-option
  case $err in "nsr numbers: unknown option '--no-such-option'"*) ;; *) fail "error line '$err'" ;; esac
  expect 0 "$nsr" help numbers fit
  case $out in "Usage: nsr numbers fit"*) ;; *) fail "help numbers fit printed '$out'" ;; esac
  expect 0 "$nsr" version --json
  case $out in *'"libcurl"'*) ;; *) fail "version --json printed '$out'" ;; esac
  expect 2 "$nsr" help no-such-command
  expect 2 "$nsr" no-such-command
  ;;
*) fail "unknown mode $mode" ;;
esac
echo ok
