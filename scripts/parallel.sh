#!/usr/bin/env bash
# Runs the npm scripts named as arguments at the same time and fails if any of them fails: the
# checks and test tiers of `npm test` leave a core idle when run one after another on two cores.
#
# A script named `idle:<script>` runs under Linux's SCHED_IDLE class (`chrt --idle 0`; nice 19 where
# chrt is missing): it gets a core only when no test wants one. `npm test` starts the checks
# (typecheck, lint) that way beside the tests instead of before them. At normal priority they would
# take the cores from the portals under test, whose minting threads are SCHED_IDLE by design
# (server/enroll/idle-priority.ts): issues then stall until the checks end, and tests that wait for
# an issue (the crash test, the journeys) ran into their deadlines. As idle work, the checks only
# fill the time the tests spend waiting, sharing it with those threads. Every script runs to its end,
# and the status is 1 when any of them failed.
#
# What the tests leave while they run is only a fraction of the checks' work; the rest runs after the
# tests, on both cores only if it is split. `npm test` therefore names the five checks one by one,
# ESLint (most of their work) first: as `lint`, run one after another, ESLint started last and ran
# alone on one core for 25 s after the tests (186-187 s in all); split, the suite took 164-169 s.
set -u
idle=(nice -n 19)
if command -v chrt >/dev/null && chrt --idle 0 true 2>/dev/null; then idle=(chrt --idle 0); fi
# Each script's end is announced with its time since the start ("== lint done after 121 s"), to see
# which one the whole run waits for.
start=$SECONDS
run() {
  local status=0
  case "$1" in
    idle:*) "${idle[@]}" npm run --silent "${1#idle:}" || status=$? ;;
    *) npm run --silent "$1" || status=$? ;;
  esac
  echo "== ${1#idle:} $([ "$status" = 0 ] && echo done || echo "failed ($status)") after $((SECONDS - start)) s"
  return "$status"
}
pids=()
for script in "$@"; do
  run "$script" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
