// weft::exec::tuning — the executor's knobs, each with the figure that chose
// it. Machines: 2-vCPU KVM guests (see bench/RESULTS.md for the executor
// tables these come from, and ../../concurrency/include/weft/tuning.hpp for
// the core's spin budget). Change a value only with a new measurement.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft::exec::tuning {

// Compute slots: how many budget-N processes can be drained cooperatively at
// once. Each slot is one cache line; workers scan them all before the ready
// queue, so the count is a scan cost (~1 ns per slot, relaxed loads of lines
// that change only at placement) against how many concurrent compute
// processes stay out of the overflow path. 16 = the anchor's count; a HAL
// device has one compute process per queue.
inline constexpr std::uint32_t compute_slot_count = 16;

// How long an idle worker keeps looking for work before it parks, in ns.
// Parking here costs ~10-20 µs per wake to undo (bench/RESULTS.md, parked
// wake: futex ping-pong floor 19.2 µs p50 round trip, weft spin 0 at 1.04x),
// while a worker still spinning picks up a new dispatch in 766 ns p50 (warm
// pickup). A spin that finds nothing costs its length in CPU once per idle
// episode, then nothing: 0.02% of a core over the second after the last
// dispatch (idle CPU row; spin 0: 0.02%, libgomp's default policy 0.33%).
// The price: a blocked caller that shares a CPU with a worker waits for that
// worker's spin (wake-all with the default spin: 71 µs p50 vs 20 µs at spin 0),
// and the default-spin parked wake measured 0.98x-2.0x the futex floor at p50
// across three runs. 50 µs is the anchor-style "bridge the gap between
// dispatches" choice; a sweep (10-100 µs) on quiet machines is still owed.
inline constexpr std::int64_t worker_spin_ns = 50'000;

// A budget-1 process that keeps reporting work is drained this many times in
// a row, then goes back to the end of the ready queue so compute slots and
// other ready processes get a turn (the anchor re-drained it in a tight loop
// with no exit check). Re-queueing costs one push and one pop (~50 ns).
inline constexpr std::uint32_t immediate_slice_limit = 8;

// wake(n): the scheduling thread posts to at most `wake_direct_max` idle
// workers itself; the rest of the demand becomes relay credit that woken
// workers pass on, `relay_fanout` each, so a wide wake costs the scheduler
// O(1) futex calls and completes in O(log n) hops. Why 1: with 2 direct
// posts, the first wakee could preempt the scheduling thread on its own CPU
// before the second post, and (busy in a keep_active drain) left the second
// worker asleep until the next 4 ms scheduler tick — bench/RESULTS.md's
// exec_wake_all rows with the caller on worker 0's CPU measured p50 4 ms. With
// one direct post the wakee itself relays the rest.
inline constexpr unsigned wake_direct_max = 1;
inline constexpr unsigned relay_fanout = 2;

// Per-worker scratch memory handed to drain functions when the options do not
// size it (the anchor used the L2 size; 64 KiB fits every L2 here).
inline constexpr std::size_t worker_local_memory_bytes = 64 * 1024;

// Upper bounds on options, so a typo is an error instead of an allocation.
inline constexpr std::uint32_t max_workers = 256;
inline constexpr std::uint32_t max_compute_slots = 4096;

}  // namespace weft::exec::tuning
