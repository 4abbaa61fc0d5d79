#!/usr/bin/env bash
# The one hard rule of driver/ (ARCHITECTURE §1): no std::atomic, no
# atomic_thread_fence, no raw futex call and no hand-written spin loop. Every
# protocol there is a verified concurrency/ primitive. Run by ctest
# (driver_purity) and usable by hand: scripts/check_driver_purity.sh [root]
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
[ -d driver ] || { echo "no driver/ under $root"; exit 2; }
# Code only: strip // comments before matching, so prose may name the rule.
pattern='std::atomic|atomic_thread_fence|atomic_signal_fence|__atomic_|__sync_|SYS_futex|futex\(|_mm_pause|__builtin_ia32_pause|sched_yield|this_thread::yield|asm volatile'
found=0
while IFS= read -r -d '' file; do
  if hits=$(sed 's@//.*$@@' "$file" | grep -nE "$pattern"); then
    while IFS= read -r line; do
      echo "$file:$line"
    done <<< "$hits"
    found=1
  fi
done < <(find driver -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' -o -name '*.cc' \) -print0)
if [ "$found" -ne 0 ]; then
  echo "driver/ must not use atomics, fences, futex calls or spin loops directly; use a concurrency/ primitive" >&2
  exit 1
fi
echo "driver/ purity: ok ($(find driver -type f \( -name '*.hpp' -o -name '*.cpp' \) | wc -l) files checked)"
