// weft::tuning — every numeric knob of the verified core, in one place, each
// with the measurement that chose it.
//
// Figures are from ../reference/peer-figures-measured-here.md (2-vCPU KVM AMD
// EPYC guests, cpuidle haltpoll with guest_halt_poll_ns=0, so an idle vCPU
// halts). Change a value only with a new measurement on the machines that run
// weft, and record it here.
#pragma once

#include <cstdint>

namespace weft::tuning {

// How long a waiter spins (re-checking its condition) before it parks on a
// futex, in nanoseconds of wall time.
//
// Why 2 µs:
//   - parking is expensive here: waking a thread parked on the other vCPU
//     costs ~25 µs (futex_raw cross-CPU round trip 53 µs = two wakeups), while
//     a spinning waiter sees the handoff in ~100-200 ns;
//   - a 2 µs spin is what the `spin2us_then_futex` row measured: p50 round
//     trip 161 ns instead of 54,952 ns, mean 2.6 µs instead of 53 µs
//     cross-CPU. It catches the common case, a handoff that arrives soon;
//   - a spin that fails wastes at most 2 µs on top of a ~25 µs park, under 10%
//     (the ski-rental argument bounds the loss of any budget below the park
//     cost; folly's Baton chose ~2 µs for the same reason);
//   - the cost of spinning shows when both threads share a CPU: same-CPU round
//     trip 7.8 µs with the spin against 4.2 µs without (1.86x). Being a time
//     budget, not an iteration count, bounds that loss per wait to 2 µs
//     whatever the CPU (iteration budgets varied 14x across CPUs in ONNX
//     Runtime PR #27916, and fixed spins were every peer's 100%-idle-CPU
//     complaint).
inline constexpr std::int64_t spin_budget_ns = 2'000;

// Safety net on spin iterations, independent of the clock. It must not bind
// before the time budget on real CPUs (a pause takes ~1-40 ns depending on the
// microarchitecture, so 2 µs is at most ~2,000 iterations of pause plus a
// cheap condition); it ends spins where the clock does not move (Relacy's
// now_ns() is frozen at 0) or is not trusted.
inline constexpr std::uint32_t spin_iteration_cap = 4'096;

// The spin loop reads the clock once per this many iterations: a vDSO
// clock_gettime (~20-30 ns with the TSC clocksource here) on every iteration
// would cost as much as the pause itself and delay noticing the handoff.
inline constexpr std::uint32_t spin_clock_check_interval = 8;

}  // namespace weft::tuning
