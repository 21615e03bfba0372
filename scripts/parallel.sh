#!/usr/bin/env bash
# Runs the npm scripts named as arguments at the same time and fails if any of them fails: the
# checks and test tiers of `npm test` leave a core idle when run one after another on two cores.
set -u
pids=()
for script in "$@"; do
  npm run --silent "$script" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
