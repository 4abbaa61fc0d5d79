// weft::sync::relacy — the model-checking backend (public header).
//
// Instantiate any weft primitive, or your own algorithm written against the
// backend interface (see weft/sync/os.hpp), with `weft::sync::relacy` and run it
// inside an rl::test_suite: Relacy then explores thread interleavings and the
// C++ memory model's weak behaviours (stale loads, reordering across
// non-seq_cst operations), and reports data races on plain<T>, lost wakeups
// (as deadlocks of futex-blocked threads), livelocks and failed assertions.
//
// This adapter is thin on purpose: each call forwards to the matching rl::
// operation with the caller's source location, so Relacy's histories point at
// the algorithm's own lines.
//
// Use (see verification/examples/ for a complete, checked example):
//
//   #include <weft/sync/relacy.hpp>         // before other weft headers is fine too
//   #include <weft/drain_gate.hpp>
//   struct my_test : rl::test_suite<my_test, 2> {
//     weft::drain_gate<weft::sync::relacy> gate;
//     void thread(unsigned index) { ... RL_ASSERT(...); }
//   };
//   rl::test_params p; p.iteration_count = 100000; rl::simulate<my_test>(p);
//
// Relacy on Debian 12 / g++ 12: include relacy/relacy.hpp only (never
// relacy_std.hpp). It defines macros for new, delete, malloc, free, assert,
// errno, the errno values and every memory_order_* name; this header contains
// them so that ordinary C++ (including `= delete` and std::memory_order_*) keeps
// compiling after it. Use RL_ASSERT in tests. Compile with -fwrapv: rl::atomic
// does its arithmetic in the value type, and the futex model needs int words,
// so a 32-bit counter wrapping past INT_MAX is signed overflow inside Relacy.
//
// Limits of the model worth knowing: Relacy keeps 3 past stores per atomic, so
// a load can be at most 2 stores stale under the random scheduler (1 under full
// search); only 32-bit words can be futex-waited; spin loops must call
// pause()/yield() (a scheduling point) or Relacy reports livelock; now_ns() is
// frozen, so spin budgets end by their iteration cap, not by time.
#pragma once

// The os backend first: its function bodies must see the real errno macros.
#include "weft/sync/os.hpp"

#include <cstdint>
#include <type_traits>

#pragma push_macro("new")
#pragma push_macro("delete")
#pragma push_macro("malloc")
#pragma push_macro("calloc")
#pragma push_macro("realloc")
#pragma push_macro("free")
#pragma push_macro("assert")
#pragma push_macro("errno")
#pragma push_macro("EINVAL")
#pragma push_macro("ETIMEDOUT")
#pragma push_macro("EBUSY")
#pragma push_macro("EINTR")
#pragma push_macro("EAGAIN")
#pragma push_macro("EWOULDBLOCK")
#pragma push_macro("FUTEX_WAIT")
#pragma push_macro("FUTEX_WAKE")
#include <relacy/relacy.hpp>
#pragma pop_macro("FUTEX_WAKE")
#pragma pop_macro("FUTEX_WAIT")
#pragma pop_macro("EWOULDBLOCK")
#pragma pop_macro("EAGAIN")
#pragma pop_macro("EINTR")
#pragma pop_macro("EBUSY")
#pragma pop_macro("ETIMEDOUT")
#pragma pop_macro("EINVAL")
#pragma pop_macro("errno")
#pragma pop_macro("assert")
#pragma pop_macro("free")
#pragma pop_macro("realloc")
#pragma pop_macro("calloc")
#pragma pop_macro("malloc")
#pragma pop_macro("delete")
#pragma pop_macro("new")
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef futex

namespace weft::sync {

namespace detail {

inline rl::memory_order to_rl(std::memory_order order) noexcept {
  switch (order) {
    case std::memory_order_relaxed: return rl::mo_relaxed;
    case std::memory_order_consume: return rl::mo_consume;
    case std::memory_order_acquire: return rl::mo_acquire;
    case std::memory_order_release: return rl::mo_release;
    case std::memory_order_acq_rel: return rl::mo_acq_rel;
    default: return rl::mo_seq_cst;
  }
}

// The caller's file and line, captured by default arguments at the call site.
// (Not std::source_location: clang 14 with libstdc++ 12 does not provide it.)
struct source_position {
  const char* file;
  unsigned line;
};

inline rl::debug_info at(const source_position& where) noexcept {
  return rl::debug_info("", where.file, where.line);
}

// Relacy's futex model takes rl::atomic<int>; a 32-bit unsigned word is kept as
// int so that it can be waited on, and converted at the boundary (C++20 makes
// the conversion a bit-for-bit modular one).
template <class T>
struct relacy_storage { using type = T; };
template <>
struct relacy_storage<std::uint32_t> { using type = int; };

}  // namespace detail

struct relacy {
  static constexpr const char* name = "relacy";
  using here = detail::source_position;

  template <class T>
  class atomic {
    using stored = typename detail::relacy_storage<T>::type;
    static stored in(T v) noexcept { return static_cast<stored>(v); }
    static T out(stored v) noexcept { return static_cast<T>(v); }

   public:
    atomic(here where = here{__builtin_FILE(), __builtin_LINE()}) { value_.store(stored{}, rl::mo_relaxed, detail::at(where)); }
    atomic(T initial, here where = here{__builtin_FILE(), __builtin_LINE()}) {  // NOLINT: mirrors std::atomic
      value_.store(in(initial), rl::mo_relaxed, detail::at(where));
    }
    atomic(const atomic&) = delete;
    atomic& operator=(const atomic&) = delete;

    T load(std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) const {
      return out(value_.load(detail::to_rl(order), detail::at(where)));
    }
    void store(T desired, std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) {
      value_.store(in(desired), detail::to_rl(order), detail::at(where));
    }
    T exchange(T desired, std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) {
      return out(value_.exchange(in(desired), detail::to_rl(order), detail::at(where)));
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure,
                               here where = here{__builtin_FILE(), __builtin_LINE()}) {
      stored e = in(expected);
      const rl::debug_info info = detail::at(where);
      const bool ok = value_.compare_exchange_weak(e, in(desired), detail::to_rl(success), info,
                                                   detail::to_rl(failure), info);
      expected = out(e);
      return ok;
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order success, std::memory_order failure,
                                 here where = here{__builtin_FILE(), __builtin_LINE()}) {
      stored e = in(expected);
      const rl::debug_info info = detail::at(where);
      const bool ok = value_.compare_exchange_strong(e, in(desired), detail::to_rl(success), info,
                                                     detail::to_rl(failure), info);
      expected = out(e);
      return ok;
    }
    template <class D>
    T fetch_add(D delta, std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) {
      return out(value_.fetch_add(static_cast<stored>(delta), detail::to_rl(order), detail::at(where)));
    }
    template <class D>
    T fetch_sub(D delta, std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) {
      return out(value_.fetch_sub(static_cast<stored>(delta), detail::to_rl(order), detail::at(where)));
    }
    T fetch_and(T bits, std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) {
      return out(value_.fetch_and(in(bits), detail::to_rl(order), detail::at(where)));
    }
    T fetch_or(T bits, std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) {
      return out(value_.fetch_or(in(bits), detail::to_rl(order), detail::at(where)));
    }
    T fetch_xor(T bits, std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) {
      return out(value_.fetch_xor(in(bits), detail::to_rl(order), detail::at(where)));
    }

    rl::atomic<stored>& raw() noexcept { return value_; }

   private:
    mutable rl::atomic<stored> value_;
  };

  // Scalars live in an rl::var, so Relacy also reports reads of uninitialized
  // values and shows them in histories. Other types (a message struct) are
  // kept as they are, and every access also touches a shadow rl::var, so a
  // racing access is still reported as a data race.
  template <class T>
  class plain {
    static constexpr bool direct = std::is_scalar_v<T>;
    using cell = std::conditional_t<direct, T, int>;

   public:
    plain(here where = here{__builtin_FILE(), __builtin_LINE()}) : value_() { write(T{}, where); }
    explicit plain(T initial, here where = here{__builtin_FILE(), __builtin_LINE()}) : value_() {
      write(initial, where);
    }
    T read(here where = here{__builtin_FILE(), __builtin_LINE()}) const {
      if constexpr (direct) {
        return cell_(detail::at(where)).load();
      } else {
        (void)cell_(detail::at(where)).load();
        return value_;
      }
    }
    void write(T value, here where = here{__builtin_FILE(), __builtin_LINE()}) {
      if constexpr (direct) {
        cell_(detail::at(where)).store(value);
      } else {
        cell_(detail::at(where)).store(0);
        value_ = value;
      }
    }

   private:
    rl::var<cell> cell_;
    [[no_unique_address]] std::conditional_t<direct, char, T> value_;
  };

  static void fence(std::memory_order order, here where = here{__builtin_FILE(), __builtin_LINE()}) {
    rl::atomic_thread_fence(detail::to_rl(order), detail::at(where));
  }

  static wait_result wait(atomic<std::uint32_t>& word, std::uint32_t expected, deadline until,
                          here where = here{__builtin_FILE(), __builtin_LINE()}) {
    if (!until.is_infinite() && until.monotonic_ns() <= 0) {
      return word.load(std::memory_order_acquire, where) == expected ? wait_result::timed_out
                                                                      : wait_result::value_changed;
    }
    // Any finite deadline lets Relacy time the wait out at a point it chooses.
    static const timespec some_timeout{0, 1};
    const int rc = rl::rl_futex(&word.raw(), rl::RL_FUTEX_WAIT, static_cast<int>(expected),
                                until.is_infinite() ? nullptr : &some_timeout, nullptr, 0, detail::at(where));
    if (rc == rl::RL_EWOULDBLOCK) return wait_result::value_changed;
    if (rc == rl::RL_ETIMEDOUT) return wait_result::timed_out;
    return wait_result::woken;
  }

  static int wake(atomic<std::uint32_t>& word, int count, here where = here{__builtin_FILE(), __builtin_LINE()}) {
    return rl::rl_futex(&word.raw(), rl::RL_FUTEX_WAKE, count, nullptr, nullptr, 0, detail::at(where));
  }

  static void pause(here where = here{__builtin_FILE(), __builtin_LINE()}) { rl::yield(1, detail::at(where)); }
  static void yield(here where = here{__builtin_FILE(), __builtin_LINE()}) { rl::yield(1, detail::at(where)); }
  static std::int64_t now_ns() noexcept { return 0; }
  // A violated caller contract is a failed test (with its history), so a
  // mutant that drives a primitive into one is reported, not aborted.
  static void check(bool condition, const char* message, here where = here{__builtin_FILE(), __builtin_LINE()}) {
    if (!condition) rl::ctx().fail_test(message, rl::test_result_user_assert_failed, detail::at(where));
  }
};

}  // namespace weft::sync
