// MPSC handoff throughput of weft::mpsc_queue (intrusive FIFO), in the same
// families as mpsc_bench.cpp so the report compares it with the same peers.
#include "mpsc_handoff.hpp"
#include "weft/mpsc_queue.hpp"

namespace weft::bench {
namespace {

struct alignas(line_size) queue_job : mpsc_queue_node<queue_job> {
  std::uint64_t stamp = 0;
};

struct weft_queue {
  using node = queue_job;
  mpsc_queue<node> queue;

  struct producer {
    explicit producer(weft_queue& peer) : queue(peer.queue) {}
    void push(node* job) { queue.push(job); }
    void push_chain(node* first, std::size_t count, std::uint64_t stamp) {
      for (std::size_t i = 0; i + 1 < count; ++i) {
        first[i].stamp = stamp;
        mpsc_queue<node>::set_next(&first[i], &first[i + 1]);
      }
      first[count - 1].stamp = stamp;
      queue.push_chain(first, &first[count - 1]);
    }
    mpsc_queue<node>& queue;
  };

  struct consumer {
    explicit consumer(weft_queue& peer) : queue(peer.queue) {}
    // Stops at `empty` and at `mid_push` alike: the benchmark's idle policy
    // then decides how long to wait before looking again.
    template <class F>
    std::size_t take(F&& f) {
      std::size_t taken = 0;
      for (auto result = queue.try_pop(); result.node != nullptr; result = queue.try_pop()) {
        f(result.node);
        ++taken;
      }
      return taken;
    }
    mpsc_queue<node>& queue;
  };
};

const bool registered = [] {
  register_handoff<weft_queue, handoff_mode::single>("mpsc_handoff", "weft_queue");
  register_handoff<weft_queue, handoff_mode::chain>("mpsc_chain", "weft_queue_push_chain");
  return true;
}();

}  // namespace
}  // namespace weft::bench
