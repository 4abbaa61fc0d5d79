// weft::verified and weft::mutation — how one algorithm source carries its own
// negative controls.
//
// Every primitive names the places whose correctness the model checker must
// confirm — its *sites*: an enum per primitive, one value per argued memory
// order or per re-check. The algorithm never writes such an order directly; it
// asks its policy:
//
//   head_.store(n, P::order(site::publish, std::memory_order_release));
//   if (P::keep(site::recheck)) { ... }
//
// Production code uses `weft::verified`, which returns the argued order and keeps
// every step; both calls are constexpr and fold away. A negative control
// instantiates the same template with a mutation that reintroduces one real bug
// class at one site:
//
//   weft::drain_gate<weft::sync::relacy,
//                    weft::mutation::weaken<weft::drain_gate_site::schedule_publish,
//                                           std::memory_order_release>>
//
// and the Relacy suite requires the checker to catch it. A control that passes
// means the suite does not reach the interleaving that matters.
//
// The same policies work for a user's own primitive: declare a site enum, route
// the orders through P, and reuse weaken / drop / split_rmw in a Relacy suite.
#pragma once

#include <atomic>
#include <type_traits>

namespace weft {

// The production policy: every site keeps its argued order and every step.
struct verified {
  template <class Site>
  static constexpr std::memory_order order(Site, std::memory_order argued) noexcept {
    return argued;
  }
  template <class Site>
  static constexpr bool keep(Site) noexcept {
    return true;
  }
};

namespace mutation {

// Uses order `To` at `Target` instead of the argued one.
template <auto Target, std::memory_order To>
struct weaken : verified {
  template <class Site>
  static constexpr std::memory_order order(Site site, std::memory_order argued) noexcept {
    if constexpr (std::is_same_v<Site, decltype(Target)>) {
      if (site == Target) return To;
    }
    return argued;
  }
};

// Removes the step guarded by keep(Target): a re-check, a generation or epoch
// comparison, a wake. (`split_rmw` is the same switch read as "do a separate
// load and store where an atomic read-modify-write is needed".)
template <auto Target>
struct drop : verified {
  template <class Site>
  static constexpr bool keep(Site site) noexcept {
    if constexpr (std::is_same_v<Site, decltype(Target)>) {
      return site != Target;
    }
    return true;
  }
};

template <auto Target>
using split_rmw = drop<Target>;

// Applies two mutations at once (both must target different sites).
template <class A, class B>
struct both : verified {
  template <class Site>
  static constexpr std::memory_order order(Site site, std::memory_order argued) noexcept {
    return B::order(site, A::order(site, argued));
  }
  template <class Site>
  static constexpr bool keep(Site site) noexcept {
    return A::keep(site) && B::keep(site);
  }
};

}  // namespace mutation
}  // namespace weft
