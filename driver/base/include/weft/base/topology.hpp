// weft::topology — which CPUs this machine has and how they group into cores
// and NUMA nodes, read from Linux sysfs, so the executor can place one worker
// per physical core and spread workers over nodes.
//
//   const weft::topology machine = weft::topology::detect();   // never fails
//   for (std::uint32_t cpu : machine.worker_cpus()) start_worker_on(cpu);
//   log(machine.source);   // "sysfs:/sys" or "fallback: <why sysfs was not usable>"
//
// Sources, under a root ("/sys" in production, a fixture tree in tests):
//   devices/system/cpu/online                      online CPUs (cpulist); if it is
//                                                  missing, the cpuN directories
//                                                  (minus those whose cpuN/online is 0)
//   devices/system/cpu/cpuN/topology/core_id       optional; default N
//   devices/system/cpu/cpuN/topology/physical_package_id   optional; default 0
//   devices/system/cpu/cpuN/cache/index2/size      optional ("2048K"); default 0
//   devices/system/node/nodeM/cpulist              optional; a CPU no node lists
//                                                  is on node 0
// A value of -1 in core_id or physical_package_id (some firmware reports it)
// counts as missing. An optional file that exists but does not parse is an
// error like a required one: from_sysfs() never guesses around bad data. Every
// error names the file and quotes its text.
//
// detect() reads "/sys" (detect(root) another tree), then keeps only the CPUs the calling thread may run
// on (its affinity mask: taskset, a container's cpuset), so worker counts fit
// the CPUs the process actually has; `source` says when it did. If sysfs is
// unusable it falls back to one core per CPU of the affinity mask (or
// flat(sysconf(_SC_NPROCESSORS_ONLN))) on one node, with the reason in
// `source`. It never fails and never crashes.
//
// Thread safety: a value type; all functions are callable from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "weft/base/result.hpp"

namespace weft {

// The largest CPU id weft accepts anywhere (cpulists, pinning).
inline constexpr std::uint32_t max_cpu_id = 1u << 20;

struct cpu_info {
  std::uint32_t id;          // logical CPU number
  std::uint32_t core_id;     // topology/core_id (id if absent)
  std::uint32_t package_id;  // topology/physical_package_id (0 if absent)
  std::uint32_t numa_node;   // the node whose cpulist has it (0 if no node lists it)
  std::uint32_t smt_index;   // 0 for the first sibling of its core (by id), 1 for the second, ...
  std::uint64_t l2_bytes;    // cache/index2/size if present, else 0 ("2048K" -> 2097152)

  friend bool operator==(const cpu_info&, const cpu_info&) = default;
};

struct topology {
  std::vector<cpu_info> cpus;         // online CPUs, sorted by id
  std::uint32_t numa_node_count = 1;  // distinct numa_node values among cpus (at least 1)
  std::string source;                 // "sysfs:<root>" or "fallback: <reason>"

  // Distinct (package_id, core_id) pairs.
  std::uint32_t physical_core_count() const;

  // The CPUs to run `count` workers on: first one CPU per physical core
  // (smt_index 0), taking the nodes round-robin (lowest id first within a
  // node), then the second SMT siblings the same way, and so on. count == 0
  // means one per physical core; a count above cpus.size() cycles through the
  // order again. Empty only if cpus is.
  std::vector<std::uint32_t> worker_cpus(std::uint32_t count = 0) const;

  // The CPUs of this topology that are also in `allowed`, with smt_index and
  // numa_node_count recomputed over them.
  topology restricted_to(std::span<const std::uint32_t> allowed) const;

  // "2 CPUs, 2 cores, 1 NUMA node (sysfs:/sys)".
  std::string summary() const;

  static result<topology> from_sysfs(const std::string& root);  // root like "/sys" or a fixture dir
  static topology detect();                                     // detect("/sys")
  static topology detect(const std::string& root);              // as above, from another root (tests)
  static topology flat(std::uint32_t cpu_count);                // ids 0..n-1, one core each, one node; 0 counts as 1
};

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}, ascending without duplicates; surrounding
// whitespace is ignored, so "" and "\n" are the empty list. Malformed text
// ("3-1", "a", "1,,2", "5-", an id above max_cpu_id) is INVALID_ARGUMENT
// quoting the text and saying what is wrong with it.
result<std::vector<std::uint32_t>> parse_cpulist(std::string_view text);

// The inverse: {0,1,2,3,8} -> "0-3,8" (sorts and drops duplicates first).
std::string format_cpulist(std::vector<std::uint32_t> cpus);

}  // namespace weft
