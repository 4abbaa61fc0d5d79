#include "weft/base/topology.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "text_file.hpp"
#include "weft/base/thread.hpp"

namespace weft {

namespace {

using detail::quoted;
using detail::trim;

std::optional<std::uint64_t> parse_decimal(std::string_view digits) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

status malformed_cpulist(std::string_view text, const std::string& why) {
  return errors::invalid_argument("cpu list ", quoted(text), " is malformed: ", why);
}

// A file that may be missing: nullopt then; any other failure is an error.
result<std::optional<std::string>> read_optional(const std::string& path) {
  result<std::string> text = detail::read_text_file(path);
  if (text.ok()) return std::optional<std::string>(std::move(text).value());
  if (text.status().code() == status_code::not_found) return std::optional<std::string>();
  return text.status();
}

// core_id / physical_package_id: a non-negative integer, or -1 for "unknown".
result<std::optional<std::uint32_t>> read_optional_id(const std::string& path) {
  WEFT_ASSIGN_OR_RETURN(std::optional<std::string> text, read_optional(path));
  if (!text || trim(*text) == "-1") return std::optional<std::uint32_t>();
  const std::optional<std::uint64_t> value = parse_decimal(trim(*text));
  if (!value || *value > UINT32_MAX) {
    return errors::invalid_argument(path, ": ", quoted(*text), " is not a non-negative 32-bit integer");
  }
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(*value));
}

// cache/indexN/size: digits with an optional K, M or G suffix; 0 if missing.
result<std::uint64_t> read_cache_size(const std::string& path) {
  WEFT_ASSIGN_OR_RETURN(std::optional<std::string> text, read_optional(path));
  if (!text) return std::uint64_t{0};
  std::string_view size = trim(*text);
  std::uint64_t unit = 1;
  if (!size.empty()) {
    switch (size.back()) {
      case 'K':
        unit = std::uint64_t{1} << 10;
        break;
      case 'M':
        unit = std::uint64_t{1} << 20;
        break;
      case 'G':
        unit = std::uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (unit != 1) size.remove_suffix(1);
  }
  const std::optional<std::uint64_t> count = parse_decimal(size);
  if (!count || *count > UINT64_MAX / unit) {
    return errors::invalid_argument(path, ": ", quoted(*text), " is not a cache size like \"2048K\"");
  }
  return *count * unit;
}

// The names "<prefix><digits>" in dir, as numbers, ascending. NOT_FOUND if dir
// does not exist.
result<std::vector<std::uint32_t>> numbered_entries(const std::string& dir, std::string_view prefix) {
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) return errors::not_found(dir, ": ", std::strerror(error));
    return errors::unavailable(dir, ": ", std::strerror(error));
  }
  std::vector<std::uint32_t> numbers;
  while (const dirent* entry = ::readdir(stream)) {
    const std::string_view name = entry->d_name;
    if (!name.starts_with(prefix)) continue;
    const std::optional<std::uint64_t> number = parse_decimal(name.substr(prefix.size()));
    if (number && *number <= max_cpu_id) numbers.push_back(static_cast<std::uint32_t>(*number));
  }
  ::closedir(stream);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

// The online CPUs: cpu/online, or the cpuN directories when it is missing.
result<std::vector<std::uint32_t>> online_cpus(const std::string& cpu_dir) {
  const std::string online_path = cpu_dir + "/online";
  result<std::string> text = detail::read_text_file(online_path);
  if (text.ok()) {
    result<std::vector<std::uint32_t>> online = parse_cpulist(*text);
    if (!online.ok()) return annotate(online.status(), online_path);
    if (online->empty())
      return errors::invalid_argument(online_path, ": lists no online cpus (text ", quoted(*text), ")");
    return online;
  }
  if (text.status().code() != status_code::not_found) return text.status();

  result<std::vector<std::uint32_t>> present = numbered_entries(cpu_dir, "cpu");
  if (!present.ok()) return annotate(present.status(), online_path + " is missing and");
  std::vector<std::uint32_t> online;
  for (std::uint32_t id : *present) {
    const std::string path = cpu_dir + "/cpu" + std::to_string(id) + "/online";
    WEFT_ASSIGN_OR_RETURN(std::optional<std::string> flag, read_optional(path));
    if (!flag || trim(*flag) == "1") {
      online.push_back(id);
    } else if (trim(*flag) != "0") {
      return errors::invalid_argument(path, ": ", quoted(*flag), " is neither 0 nor 1");
    }
  }
  if (online.empty()) return errors::not_found(cpu_dir, ": no online file and no online cpuN directory");
  return online;
}

// numa_node of every CPU from node/nodeM/cpulist; all 0 without node/.
status assign_nodes(const std::string& node_dir, std::vector<cpu_info>& cpus) {
  result<std::vector<std::uint32_t>> nodes = numbered_entries(node_dir, "node");
  if (!nodes.ok()) return nodes.status().code() == status_code::not_found ? status::ok() : nodes.status();
  std::map<std::uint32_t, std::size_t> index_of;  // cpu id -> position in cpus
  for (std::size_t i = 0; i < cpus.size(); ++i) index_of[cpus[i].id] = i;
  std::map<std::uint32_t, std::uint32_t> node_of;  // cpu id -> the node that listed it
  for (std::uint32_t node : *nodes) {
    const std::string path = node_dir + "/node" + std::to_string(node) + "/cpulist";
    WEFT_ASSIGN_OR_RETURN(std::optional<std::string> text, read_optional(path));
    if (!text) continue;
    result<std::vector<std::uint32_t>> listed = parse_cpulist(*text);
    if (!listed.ok()) return annotate(listed.status(), path);
    for (std::uint32_t id : *listed) {
      const auto [previous, fresh] = node_of.emplace(id, node);
      if (!fresh) {
        return errors::invalid_argument(path, ": cpu ", id, " is also listed by node", previous->second, " (text ",
                                        quoted(*text), ")");
      }
      if (const auto found = index_of.find(id); found != index_of.end()) cpus[found->second].numa_node = node;
    }
  }
  return status::ok();
}

// Sorts cpus and derives smt_index and numa_node_count from them.
void finish(topology& t) {
  std::sort(t.cpus.begin(), t.cpus.end(), [](const cpu_info& a, const cpu_info& b) { return a.id < b.id; });
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> siblings_seen;
  std::set<std::uint32_t> nodes;
  for (cpu_info& cpu : t.cpus) {
    cpu.smt_index = siblings_seen[{cpu.package_id, cpu.core_id}]++;
    nodes.insert(cpu.numa_node);
  }
  t.numa_node_count = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(nodes.size()));
}

topology flat_over(const std::vector<std::uint32_t>& ids) {
  topology t;
  for (std::uint32_t id : ids) t.cpus.push_back(cpu_info{id, id, 0, 0, 0, 0});
  finish(t);
  return t;
}

}  // namespace

result<std::vector<std::uint32_t>> parse_cpulist(std::string_view text) {
  const std::string_view body = trim(text);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  for (std::size_t start = 0; !body.empty();) {
    const std::size_t comma = body.find(',', start);
    const std::string_view element = body.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (element.empty()) return malformed_cpulist(text, "an element is empty");
    const std::size_t dash = element.find('-');
    const std::optional<std::uint64_t> first = parse_decimal(element.substr(0, dash));
    const std::optional<std::uint64_t> last =
        dash == std::string_view::npos ? first : parse_decimal(element.substr(dash + 1));
    if (!first || !last) {
      return malformed_cpulist(text, "element " + quoted(element) + " is not a cpu id or an id range");
    }
    if (*last > max_cpu_id) {
      return malformed_cpulist(text,
                               "cpu id " + std::to_string(*last) + " exceeds the limit " + std::to_string(max_cpu_id));
    }
    if (*first > *last) {
      return malformed_cpulist(text, "range " + std::string(element) + " runs backwards");
    }
    ranges.emplace_back(static_cast<std::uint32_t>(*first), static_cast<std::uint32_t>(*last));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // Merge first, so repeated ranges cannot inflate the list.
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::uint32_t> cpus;
  std::uint64_t next = 0;  // the lowest id not yet emitted
  for (const auto& [first, last] : ranges) {
    for (std::uint64_t id = std::max<std::uint64_t>(first, next); id <= last; ++id) {
      cpus.push_back(static_cast<std::uint32_t>(id));
    }
    next = std::max<std::uint64_t>(next, std::uint64_t{last} + 1);
  }
  return cpus;
}

std::string format_cpulist(std::vector<std::uint32_t> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string text;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!text.empty()) text += ',';
    text += std::to_string(cpus[i]);
    if (j > i) text += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return text;
}

std::uint32_t topology::physical_core_count() const {
  std::set<std::pair<std::uint32_t, std::uint32_t>> cores;
  for (const cpu_info& cpu : cpus) cores.emplace(cpu.package_id, cpu.core_id);
  return static_cast<std::uint32_t>(cores.size());
}

std::vector<std::uint32_t> topology::worker_cpus(std::uint32_t count) const {
  if (cpus.empty()) return {};
  if (count == 0) count = physical_core_count();
  // by_level[smt_index][node] = that node's CPUs at that SMT level, by id.
  std::map<std::uint32_t, std::map<std::uint32_t, std::vector<std::uint32_t>>> by_level;
  for (const cpu_info& cpu : cpus) by_level[cpu.smt_index][cpu.numa_node].push_back(cpu.id);
  std::vector<std::uint32_t> order;
  order.reserve(cpus.size());
  for (const auto& [level, nodes] : by_level) {
    for (std::size_t round = 0; order.size() < cpus.size(); ++round) {
      bool took_any = false;
      for (const auto& [node, ids] : nodes) {
        if (round < ids.size()) {
          order.push_back(ids[round]);
          took_any = true;
        }
      }
      if (!took_any) break;
    }
  }
  std::vector<std::uint32_t> chosen(count);
  for (std::uint32_t i = 0; i < count; ++i) chosen[i] = order[i % order.size()];
  return chosen;
}

topology topology::restricted_to(std::span<const std::uint32_t> allowed) const {
  std::vector<std::uint32_t> wanted(allowed.begin(), allowed.end());
  std::sort(wanted.begin(), wanted.end());
  topology kept;
  std::vector<std::uint32_t> kept_ids;
  for (const cpu_info& cpu : cpus) {
    if (std::binary_search(wanted.begin(), wanted.end(), cpu.id)) {
      kept.cpus.push_back(cpu);
      kept_ids.push_back(cpu.id);
    }
  }
  finish(kept);
  kept.source = source + ", restricted to cpus " + format_cpulist(std::move(kept_ids));
  return kept;
}

std::string topology::summary() const {
  const auto plural = [](std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  return plural(cpus.size(), "CPU") + ", " + plural(physical_core_count(), "core") + ", " +
         plural(numa_node_count, "NUMA node") + " (" + source + ")";
}

result<topology> topology::from_sysfs(const std::string& root) {
  const std::string cpu_dir = root + "/devices/system/cpu";
  WEFT_ASSIGN_OR_RETURN(const std::vector<std::uint32_t> ids, online_cpus(cpu_dir));
  topology t;
  t.cpus.reserve(ids.size());
  for (std::uint32_t id : ids) {
    const std::string base = cpu_dir + "/cpu" + std::to_string(id);
    WEFT_ASSIGN_OR_RETURN(const std::optional<std::uint32_t> core, read_optional_id(base + "/topology/core_id"));
    WEFT_ASSIGN_OR_RETURN(const std::optional<std::uint32_t> package,
                          read_optional_id(base + "/topology/physical_package_id"));
    WEFT_ASSIGN_OR_RETURN(const std::uint64_t l2_bytes, read_cache_size(base + "/cache/index2/size"));
    t.cpus.push_back(cpu_info{id, core.value_or(id), package.value_or(0), 0, 0, l2_bytes});
  }
  WEFT_RETURN_IF_ERROR(assign_nodes(root + "/devices/system/node", t.cpus));
  finish(t);
  t.source = "sysfs:" + root;
  return t;
}

topology topology::detect() { return detect("/sys"); }

topology topology::detect(const std::string& root) {
  result<topology> machine = from_sysfs(root);
  const result<std::vector<std::uint32_t>> allowed = current_thread_affinity();
  if (machine.ok()) {
    if (allowed.ok()) {
      topology usable = machine->restricted_to(*allowed);
      if (!usable.cpus.empty() && usable.cpus.size() < machine->cpus.size()) return usable;
    }
    return std::move(machine).value();
  }
  topology fallback;
  if (allowed.ok() && !allowed->empty()) {
    fallback = flat_over(*allowed);
  } else {
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    fallback = flat(online > 0 ? static_cast<std::uint32_t>(std::min<long>(online, max_cpu_id)) : 1);
  }
  fallback.source = "fallback: " + machine.status().to_string();
  return fallback;
}

topology topology::flat(std::uint32_t cpu_count) {
  std::vector<std::uint32_t> ids(std::max<std::uint32_t>(cpu_count, 1));
  for (std::uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
  topology t = flat_over(ids);
  t.source = "flat";
  return t;
}

}  // namespace weft
