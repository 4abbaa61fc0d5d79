// MPSC handoff throughput: weft::mpsc_slist (and weft::mpsc_queue, in
// mpsc_queue_bench.cpp) against the queues a user would pick instead, plus a
// chain push of pre-linked jobs against moodycamel's bulk enqueue. The loop,
// placement and exactly-once check are in mpsc_handoff.hpp.
//
// Every peer is used the way its documentation recommends for this job:
// boost::lockfree::stack drains with consume_all_atomic (one exchange, like a
// flush), moodycamel is measured plain, with tokens, and with tokens + bulk
// dequeue, and the mutex baseline swaps the whole deque out under the lock.
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/stack.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <tbb/concurrent_queue.h>

#include <array>
#include <deque>
#include <mutex>
#include <optional>

#include "mpsc_handoff.hpp"
#include "weft/mpsc_slist.hpp"

namespace weft::bench {
namespace {

struct alignas(line_size) slist_job : slist_node<slist_job> {
  std::uint64_t stamp = 0;
};

// A peer that is not intrusive carries a pointer to the job.
struct alignas(line_size) plain_job {
  std::uint64_t stamp = 0;
};

// How the slist consumer takes its jobs.
enum class slist_take { flush_lifo, flush_fifo, pop };

template <slist_take Take>
struct weft_slist {
  using node = slist_job;
  mpsc_slist<node> list;

  struct producer {
    explicit producer(weft_slist& peer) : list(peer.list) {}
    void push(node* job) { list.push(job); }
    // The producer links its batch as it fills it in, then publishes it with
    // one CAS.
    void push_chain(node* first, std::size_t count, std::uint64_t stamp) {
      for (std::size_t i = 0; i + 1 < count; ++i) {
        first[i].stamp = stamp;
        first[i].slist_next.write(&first[i + 1]);
      }
      first[count - 1].stamp = stamp;
      list.push_chain(first, &first[count - 1]);
    }
    mpsc_slist<node>& list;
  };

  struct consumer {
    explicit consumer(weft_slist& peer) : list(peer.list) {}
    template <class F>
    std::size_t take(F&& f) {
      if constexpr (Take == slist_take::pop) {
        std::size_t taken = 0;
        while (node* job = list.pop()) {
          f(job);
          ++taken;
        }
        return taken;
      } else {
        node* job = Take == slist_take::flush_fifo ? list.flush_fifo() : list.flush();
        std::size_t taken = 0;
        while (job != nullptr) {
          node* const next = mpsc_slist<node>::next(job);
          f(job);
          ++taken;
          job = next;
        }
        return taken;
      }
    }
    mpsc_slist<node>& list;
  };
};

struct boost_queue {
  using node = plain_job;
  boost::lockfree::queue<node*> queue{1024};
  struct producer {
    explicit producer(boost_queue& peer) : queue(peer.queue) {}
    void push(node* job) { queue.push(job); }
    boost::lockfree::queue<node*>& queue;
  };
  struct consumer {
    explicit consumer(boost_queue& peer) : queue(peer.queue) {}
    template <class F>
    std::size_t take(F&& f) {
      return queue.consume_all(f);
    }
    boost::lockfree::queue<node*>& queue;
  };
};

struct boost_stack {
  using node = plain_job;
  boost::lockfree::stack<node*> stack{1024};
  struct producer {
    explicit producer(boost_stack& peer) : stack(peer.stack) {}
    void push(node* job) { stack.push(job); }
    boost::lockfree::stack<node*>& stack;
  };
  struct consumer {
    explicit consumer(boost_stack& peer) : stack(peer.stack) {}
    template <class F>
    std::size_t take(F&& f) {
      return stack.consume_all_atomic(f);
    }
    boost::lockfree::stack<node*>& stack;
  };
};

enum class moodycamel_mode { plain, tokens, tokens_bulk };

template <moodycamel_mode Mode>
struct moodycamel_queue {
  using node = plain_job;
  using queue_type = moodycamel::ConcurrentQueue<node*>;
  static constexpr std::size_t bulk_size = 256;
  queue_type queue{4 * jobs_per_producer};

  struct producer {
    // Plain mode registers no explicit producer: an idle one would only add
    // to what the token-less consumer has to scan.
    explicit producer(moodycamel_queue& peer) : queue(peer.queue) {
      if constexpr (Mode != moodycamel_mode::plain) token.emplace(peer.queue);
    }
    void push(node* job) {
      if constexpr (Mode == moodycamel_mode::plain) {
        queue.enqueue(job);
      } else {
        queue.enqueue(*token, job);
      }
    }
    // g++ 12 reports a -Wstringop-overflow false positive from an atomic load
    // inside moodycamel's inlined enqueue_bulk; the peer's code is not ours
    // to change, so the warning is silenced for this one function.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
    void push_chain(node* first, std::size_t count, std::uint64_t stamp) {
      std::array<node*, chain_length> batch;
      for (std::size_t i = 0; i < count; ++i) {
        first[i].stamp = stamp;
        batch[i] = &first[i];
      }
      queue.enqueue_bulk(*token, batch.data(), count);
    }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    queue_type& queue;
    std::optional<moodycamel::ProducerToken> token;
  };

  struct consumer {
    explicit consumer(moodycamel_queue& peer) : queue(peer.queue), token(peer.queue) {}
    template <class F>
    std::size_t take(F&& f) {
      std::size_t taken = 0;
      if constexpr (Mode == moodycamel_mode::tokens_bulk) {
        std::array<node*, bulk_size> batch;
        while (const std::size_t got = queue.try_dequeue_bulk(token, batch.data(), batch.size())) {
          for (std::size_t i = 0; i < got; ++i) f(batch[i]);
          taken += got;
        }
      } else {
        node* job = nullptr;
        while (Mode == moodycamel_mode::plain ? queue.try_dequeue(job) : queue.try_dequeue(token, job)) {
          f(job);
          ++taken;
        }
      }
      return taken;
    }
    queue_type& queue;
    moodycamel::ConsumerToken token;
  };
};

struct tbb_queue {
  using node = plain_job;
  tbb::concurrent_queue<node*> queue;
  struct producer {
    explicit producer(tbb_queue& peer) : queue(peer.queue) {}
    void push(node* job) { queue.push(job); }
    tbb::concurrent_queue<node*>& queue;
  };
  struct consumer {
    explicit consumer(tbb_queue& peer) : queue(peer.queue) {}
    template <class F>
    std::size_t take(F&& f) {
      std::size_t taken = 0;
      node* job = nullptr;
      while (queue.try_pop(job)) {
        f(job);
        ++taken;
      }
      return taken;
    }
    tbb::concurrent_queue<node*>& queue;
  };
};

struct mutex_deque {
  using node = plain_job;
  std::mutex mutex;  // the baseline under test
  std::deque<node*> jobs;
  struct producer {
    explicit producer(mutex_deque& owner) : peer(owner) {}
    void push(node* job) {
      std::lock_guard lock(peer.mutex);
      peer.jobs.push_back(job);
    }
    // The batch is prepared outside the lock and appended under one lock.
    void push_chain(node* first, std::size_t count, std::uint64_t stamp) {
      std::array<node*, chain_length> batch;
      for (std::size_t i = 0; i < count; ++i) {
        first[i].stamp = stamp;
        batch[i] = &first[i];
      }
      std::lock_guard lock(peer.mutex);
      peer.jobs.insert(peer.jobs.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(count));
    }
    mutex_deque& peer;
  };
  struct consumer {
    explicit consumer(mutex_deque& owner) : peer(owner) {}
    template <class F>
    std::size_t take(F&& f) {
      {
        std::lock_guard lock(peer.mutex);
        taken.swap(peer.jobs);
      }
      for (node* job : taken) f(job);
      const std::size_t count = taken.size();
      taken.clear();
      return count;
    }
    mutex_deque& peer;
    std::deque<node*> taken;
  };
};

const bool registered = [] {
  register_handoff<weft_slist<slist_take::flush_lifo>, handoff_mode::single>("mpsc_handoff", "weft_slist_flush");
  register_handoff<weft_slist<slist_take::flush_fifo>, handoff_mode::single>("mpsc_handoff", "weft_slist_flush_fifo");
  register_handoff<weft_slist<slist_take::pop>, handoff_mode::single>("mpsc_handoff", "weft_slist_pop");
  register_handoff<boost_queue, handoff_mode::single>("mpsc_handoff", "boost_lockfree_queue");
  register_handoff<boost_stack, handoff_mode::single>("mpsc_handoff", "boost_lockfree_stack");
  register_handoff<moodycamel_queue<moodycamel_mode::plain>, handoff_mode::single>("mpsc_handoff", "moodycamel");
  register_handoff<moodycamel_queue<moodycamel_mode::tokens>, handoff_mode::single>("mpsc_handoff",
                                                                                    "moodycamel_tokens");
  register_handoff<moodycamel_queue<moodycamel_mode::tokens_bulk>, handoff_mode::single>("mpsc_handoff",
                                                                                         "moodycamel_tokens_bulk");
  register_handoff<tbb_queue, handoff_mode::single>("mpsc_handoff", "tbb_concurrent_queue");
  register_handoff<mutex_deque, handoff_mode::single>("mpsc_handoff", "mutex_deque");

  register_handoff<weft_slist<slist_take::flush_lifo>, handoff_mode::chain>("mpsc_chain", "weft_slist_push_chain");
  register_handoff<moodycamel_queue<moodycamel_mode::tokens_bulk>, handoff_mode::chain>("mpsc_chain",
                                                                                        "moodycamel_enqueue_bulk");
  register_handoff<mutex_deque, handoff_mode::chain>("mpsc_chain", "mutex_deque_bulk");
  return true;
}();

}  // namespace
}  // namespace weft::bench
