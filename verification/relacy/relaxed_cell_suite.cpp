// Relacy suite for weft::relaxed_cell.
//
// Model: three threads update one cell concurrently — two fetch_add()s each
// of their own amount, one of them also a fetch_sub() — and the total at the
// end must be exact. Nothing else is checked: a relaxed_cell promises no
// ordering of other memory, only atomic updates.
//
// Negative control (must be reported): update_rmw split into a load and a
// store — two threads load the same value and one update is lost (the total
// assertion).
#include "harness.hpp"
#include "weft/relaxed_cell.hpp"

namespace {

namespace mutation = weft::mutation;

template <class Policy>
struct adders_model : rl::test_suite<adders_model<Policy>, 3> {
  weft::relaxed_cell<int, weft::sync::relacy, Policy> total{100};
  rl::atomic<int> seen_sum;

  void before() { seen_sum.store(0, rl::mo_relaxed, $); }

  void thread(unsigned index) {
    const int amount = 1 << index;  // 1, 2, 4: any lost update changes the total
    total.fetch_add(amount);
    total.fetch_add(amount);
    if (index == 2) total.fetch_sub(3);
  }

  void after() { RL_ASSERT(total.load() == 100 + 2 * (1 + 2 + 4) - 3); }
};

// One fetch_add per thread: small enough for the exhaustive search.
template <class Policy>
struct single_adds_model : rl::test_suite<single_adds_model<Policy>, 3> {
  weft::relaxed_cell<unsigned, weft::sync::relacy, Policy> total{0};

  void thread(unsigned index) { total.fetch_add(1u << index); }

  void after() { RL_ASSERT(total.load() == 7u); }
};

using verified = weft::verified;
using split_update = mutation::split_rmw<weft::relaxed_cell_site::update_rmw>;

}  // namespace

WEFT_RELACY_CASE(relaxed_cell, "concurrent fetch_add/fetch_sub: exact total", random, pass, adders_model<verified>);
WEFT_RELACY_CASE(relaxed_cell, "concurrent fetch_add: exact total", full, pass, single_adds_model<verified>);
WEFT_RELACY_CASE(relaxed_cell, "control: fetch_add as load + store", random, caught, adders_model<split_update>);
WEFT_RELACY_CASE(relaxed_cell, "control: fetch_add as load + store", full, caught, single_adds_model<split_update>);
