#include "weft/base/topology.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "weft/base/thread.hpp"

namespace {

using weft::status_code;
using weft::topology;
using ids = std::vector<std::uint32_t>;

// A fake sysfs tree under a fresh temporary directory, removed afterwards.
class sysfs_tree {
 public:
  sysfs_tree() {
    std::string pattern = (std::filesystem::temp_directory_path() / "weft-topology-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    root_ = pattern;
  }
  ~sysfs_tree() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  sysfs_tree(const sysfs_tree&) = delete;
  sysfs_tree& operator=(const sysfs_tree&) = delete;

  const std::string& root() const { return root_; }

  void write(const std::string& relative, const std::string& text) const {
    const std::filesystem::path path = std::filesystem::path(root_) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  void online(const std::string& list) const { write("devices/system/cpu/online", list + "\n"); }
  void cpu(std::uint32_t id, std::uint32_t core, std::uint32_t package, const std::string& l2 = "") const {
    const std::string base = "devices/system/cpu/cpu" + std::to_string(id);
    write(base + "/topology/core_id", std::to_string(core) + "\n");
    write(base + "/topology/physical_package_id", std::to_string(package) + "\n");
    if (!l2.empty()) write(base + "/cache/index2/size", l2 + "\n");
  }
  void node(std::uint32_t node, const std::string& list) const {
    write("devices/system/node/node" + std::to_string(node) + "/cpulist", list + "\n");
  }

 private:
  std::string root_;
};

topology load(const sysfs_tree& tree) {
  weft::result<topology> t = topology::from_sysfs(tree.root());
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(t).value() : topology{};
}

ids ids_of(const topology& t) {
  ids out;
  for (const weft::cpu_info& cpu : t.cpus) out.push_back(cpu.id);
  return out;
}

TEST(Topology, OneNodeFourCpus) {
  sysfs_tree tree;
  tree.online("0-3");
  for (std::uint32_t id = 0; id < 4; ++id) tree.cpu(id, id, 0, "2048K");
  tree.node(0, "0-3");
  const topology t = load(tree);
  EXPECT_EQ(ids_of(t), (ids{0, 1, 2, 3}));
  EXPECT_EQ(t.numa_node_count, 1u);
  EXPECT_EQ(t.physical_core_count(), 4u);
  EXPECT_EQ(t.source, "sysfs:" + tree.root());
  for (const weft::cpu_info& cpu : t.cpus) {
    EXPECT_EQ(cpu.core_id, cpu.id);
    EXPECT_EQ(cpu.package_id, 0u);
    EXPECT_EQ(cpu.numa_node, 0u);
    EXPECT_EQ(cpu.smt_index, 0u);
    EXPECT_EQ(cpu.l2_bytes, 2097152u);
  }
  EXPECT_EQ(t.worker_cpus(), (ids{0, 1, 2, 3}));
  EXPECT_EQ(t.worker_cpus(2), (ids{0, 1}));
  EXPECT_EQ(t.worker_cpus(6), (ids{0, 1, 2, 3, 0, 1})) << "more workers than CPUs cycle";
  EXPECT_EQ(t.summary(), "4 CPUs, 4 cores, 1 NUMA node (sysfs:" + tree.root() + ")");
}

TEST(Topology, TwoNumaNodesAlternateInWorkerOrder) {
  sysfs_tree tree;
  tree.online("0-7");
  for (std::uint32_t id = 0; id < 8; ++id) tree.cpu(id, id % 4, id / 4);
  tree.node(0, "0-3");
  tree.node(1, "4-7");
  const topology t = load(tree);
  EXPECT_EQ(t.numa_node_count, 2u);
  EXPECT_EQ(t.cpus[5].numa_node, 1u);
  EXPECT_EQ(t.cpus[5].package_id, 1u);
  EXPECT_EQ(t.physical_core_count(), 8u) << "core ids repeat per package";
  EXPECT_EQ(t.worker_cpus(), (ids{0, 4, 1, 5, 2, 6, 3, 7}));
  EXPECT_EQ(t.worker_cpus(3), (ids{0, 4, 1}));
}

TEST(Topology, SparseCpuIds) {
  sysfs_tree tree;
  tree.online("0,2,5-6");
  for (std::uint32_t id : {0u, 2u, 5u, 6u}) tree.cpu(id, id, 0);
  const topology t = load(tree);
  EXPECT_EQ(ids_of(t), (ids{0, 2, 5, 6}));
  EXPECT_EQ(t.worker_cpus(), (ids{0, 2, 5, 6}));
}

TEST(Topology, SmtSiblingsComeAfterOneCpuPerCore) {
  // Intel-style numbering: siblings are n and n + cores.
  sysfs_tree tree;
  tree.online("0-3");
  for (std::uint32_t id = 0; id < 4; ++id) tree.cpu(id, id % 2, 0);
  const topology t = load(tree);
  EXPECT_EQ(t.physical_core_count(), 2u);
  EXPECT_EQ(t.cpus[0].smt_index, 0u);
  EXPECT_EQ(t.cpus[2].smt_index, 1u);
  EXPECT_EQ(t.worker_cpus(), (ids{0, 1}));
  EXPECT_EQ(t.worker_cpus(3), (ids{0, 1, 2}));
  EXPECT_EQ(t.worker_cpus(4), (ids{0, 1, 2, 3}));

  // AMD-style numbering: siblings are adjacent.
  sysfs_tree adjacent;
  adjacent.online("0-3");
  for (std::uint32_t id = 0; id < 4; ++id) adjacent.cpu(id, id / 2, 0);
  const topology a = load(adjacent);
  EXPECT_EQ(a.worker_cpus(), (ids{0, 2}));
  EXPECT_EQ(a.worker_cpus(4), (ids{0, 2, 1, 3}));

  const std::uint32_t upper_siblings[] = {1, 3};
  const topology r = a.restricted_to(upper_siblings);
  EXPECT_EQ(ids_of(r), (ids{1, 3}));
  EXPECT_EQ(r.cpus[0].smt_index, 0u) << "the first sibling left of its core";
  EXPECT_EQ(r.worker_cpus(), (ids{1, 3}));
  EXPECT_NE(r.source.find("restricted to cpus 1,3"), std::string::npos) << r.source;
}

TEST(Topology, MoreThan64CpusOnTwoNodes) {
  // 2 packages x 40 cores x 2 threads; siblings are n and n + 80.
  sysfs_tree tree;
  tree.online("0-159");
  for (std::uint32_t id = 0; id < 160; ++id) tree.cpu(id, id % 40, (id % 80) / 40, "1M");
  tree.node(0, "0-39,80-119");
  tree.node(1, "40-79,120-159");
  const topology t = load(tree);
  ASSERT_EQ(t.cpus.size(), 160u);
  EXPECT_EQ(t.cpus[127].id, 127u);
  EXPECT_EQ(t.cpus[130].numa_node, 1u);
  EXPECT_EQ(t.cpus[130].smt_index, 1u);
  EXPECT_EQ(t.cpus[65].numa_node, 1u);
  EXPECT_EQ(t.cpus[65].smt_index, 0u);
  EXPECT_EQ(t.cpus[159].l2_bytes, 1048576u);
  EXPECT_EQ(t.numa_node_count, 2u);
  EXPECT_EQ(t.physical_core_count(), 80u);

  ids expected;
  for (std::uint32_t i = 0; i < 40; ++i) {
    expected.push_back(i);
    expected.push_back(40 + i);
  }
  EXPECT_EQ(t.worker_cpus(), expected);
  const ids all = t.worker_cpus(160);
  EXPECT_EQ(ids(all.begin(), all.begin() + 80), expected);
  EXPECT_EQ(all[80], 80u);
  EXPECT_EQ(all[81], 120u);
  EXPECT_EQ(all[159], 159u);
  ids sorted = all;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, ids_of(t)) << "every CPU exactly once";
}

TEST(Topology, MissingOptionalFilesGiveDefaults) {
  sysfs_tree tree;
  tree.online("0-1");
  const topology t = load(tree);
  ASSERT_EQ(t.cpus.size(), 2u);
  EXPECT_EQ(t.cpus[1], (weft::cpu_info{1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(t.numa_node_count, 1u);

  sysfs_tree unknown_ids;  // firmware that reports -1
  unknown_ids.online("0");
  unknown_ids.write("devices/system/cpu/cpu0/topology/core_id", "-1\n");
  unknown_ids.write("devices/system/cpu/cpu0/topology/physical_package_id", "-1\n");
  EXPECT_EQ(load(unknown_ids).cpus.at(0), (weft::cpu_info{0, 0, 0, 0, 0, 0}));
}

TEST(Topology, WithoutAnOnlineFileTheCpuDirectoriesCount) {
  sysfs_tree tree;
  tree.cpu(0, 0, 0);
  tree.cpu(1, 1, 0);
  tree.cpu(2, 2, 0);
  tree.write("devices/system/cpu/cpu2/online", "0\n");      // offline
  tree.write("devices/system/cpu/cpufreq/policy0", "x\n");  // not a CPU
  tree.write("devices/system/cpu/cpuidle/state", "x\n");
  EXPECT_EQ(ids_of(load(tree)), (ids{0, 1}));
}

TEST(Topology, AnEmptyOnlineListIsAnErrorAndDetectFallsBack) {
  sysfs_tree tree;
  tree.online("");
  const weft::result<topology> t = topology::from_sysfs(tree.root());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), status_code::invalid_argument);
  EXPECT_NE(t.status().message().find(tree.root() + "/devices/system/cpu/online"), std::string::npos) << t.status();

  const topology fallback = topology::detect(tree.root());
  EXPECT_FALSE(fallback.cpus.empty());
  EXPECT_EQ(fallback.source.rfind("fallback: ", 0), 0u) << fallback.source;
  EXPECT_NE(fallback.source.find("devices/system/cpu/online"), std::string::npos) << fallback.source;
  EXPECT_EQ(fallback.worker_cpus().size(), fallback.cpus.size()) << "one core per CPU";
}

TEST(Topology, MissingRootIsAnErrorNamingThePath) {
  const weft::result<topology> t = topology::from_sysfs("/nonexistent/weft-sysfs");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("/nonexistent/weft-sysfs/devices/system/cpu"), std::string::npos) << t.status();
  EXPECT_FALSE(topology::detect("/nonexistent/weft-sysfs").cpus.empty());
}

// Each case breaks one file of an otherwise good tree; the error must name
// that file and quote its text, and detect() must fall back instead.
TEST(Topology, MalformedFilesAreClearErrorsNeverCrashes) {
  struct breakage {
    const char* file;
    const char* text;
    const char* quoted;
  };
  const breakage cases[] = {
      {"devices/system/cpu/online", "3-1\n", "\"3-1\\n\""},
      {"devices/system/cpu/online", "0-1,,3\n", "\"0-1,,3\\n\""},
      {"devices/system/cpu/cpu1/topology/core_id", "abc\n", "\"abc\\n\""},
      {"devices/system/cpu/cpu0/topology/physical_package_id", "1.5\n", "\"1.5\\n\""},
      {"devices/system/cpu/cpu0/topology/core_id", "99999999999\n", "\"99999999999\\n\""},
      {"devices/system/cpu/cpu1/cache/index2/size", "lots\n", "\"lots\\n\""},
      {"devices/system/node/node0/cpulist", "garbage\n", "\"garbage\\n\""},
      {"devices/system/node/node1/cpulist", "\x01\xFF", "\"\\x01\\xFF\""},
      {"devices/system/node/node1/cpulist", "1\n", "\"1\\n\""},  // cpu 1 on two nodes
  };
  for (const breakage& c : cases) {
    sysfs_tree tree;
    tree.online("0-1");
    tree.cpu(0, 0, 0, "512K");
    tree.cpu(1, 1, 0, "512K");
    tree.node(0, "0-1");
    tree.write(c.file, c.text);
    const weft::result<topology> t = topology::from_sysfs(tree.root());
    ASSERT_FALSE(t.ok()) << c.file << " = " << c.quoted;
    EXPECT_EQ(t.status().code(), status_code::invalid_argument) << t.status();
    EXPECT_NE(t.status().message().find(tree.root() + "/" + c.file), std::string::npos) << t.status();
    EXPECT_NE(t.status().message().find(c.quoted), std::string::npos) << t.status();
    const topology fallback = topology::detect(tree.root());
    EXPECT_FALSE(fallback.cpus.empty());
    EXPECT_NE(fallback.source.find(c.file), std::string::npos) << fallback.source;
  }
}

TEST(Topology, DetectOnThisMachine) {
  const topology t = topology::detect();
  ASSERT_GE(t.cpus.size(), 1u);
  EXPECT_GE(t.physical_core_count(), 1u);
  EXPECT_GE(t.numa_node_count, 1u);
  EXPECT_TRUE(t.source.rfind("sysfs:/sys", 0) == 0 || t.source.rfind("fallback: ", 0) == 0) << t.source;
  const ids allowed = weft::current_thread_affinity().value();
  for (std::uint32_t cpu : t.worker_cpus()) {
    EXPECT_TRUE(std::binary_search(allowed.begin(), allowed.end(), cpu)) << "cpu " << cpu << " is not usable";
  }
  EXPECT_EQ(t.worker_cpus().size(), t.physical_core_count());
}

TEST(Topology, FlatHasOneCorePerCpuOnOneNode) {
  const topology t = topology::flat(3);
  EXPECT_EQ(ids_of(t), (ids{0, 1, 2}));
  EXPECT_EQ(t.physical_core_count(), 3u);
  EXPECT_EQ(t.numa_node_count, 1u);
  EXPECT_EQ(t.worker_cpus(), (ids{0, 1, 2}));
  EXPECT_EQ(topology::flat(0).cpus.size(), 1u);
  EXPECT_TRUE(topology{}.worker_cpus(4).empty());
}

TEST(ParseCpulist, AcceptsKernelFormats) {
  struct valid {
    const char* text;
    ids expected;
  };
  const valid cases[] = {
      {"0-3,8,10-11", {0, 1, 2, 3, 8, 10, 11}},
      {"0-3,8,10-11\n", {0, 1, 2, 3, 8, 10, 11}},
      {"", {}},
      {"\n", {}},
      {"5", {5}},
      {"7-7", {7}},
      {"8,0-2", {0, 1, 2, 8}},
      {"0-4,2-6", {0, 1, 2, 3, 4, 5, 6}},
      {"63-65,127-128", {63, 64, 65, 127, 128}},
      {"1048576", {1048576}},
  };
  for (const valid& c : cases) {
    const weft::result<ids> parsed = weft::parse_cpulist(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status();
    EXPECT_EQ(*parsed, c.expected) << c.text;
  }
}

TEST(ParseCpulist, RejectsMalformedTextNamingIt) {
  for (const char* text : {"3-1", "a", "1,,2", "5-", "-5", ",1", "1,", "1-2-3", "0x3", "+1", "1 ,2", "1048577",
                           "0-2000000", "99999999999999999999999"}) {
    const weft::result<ids> parsed = weft::parse_cpulist(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), status_code::invalid_argument);
    EXPECT_NE(parsed.status().message().find("\"" + std::string(text) + "\""), std::string::npos) << parsed.status();
  }
  EXPECT_NE(weft::parse_cpulist("3-1").status().message().find("backwards"), std::string::npos);
}

TEST(ParseCpulist, FormatIsItsInverse) {
  EXPECT_EQ(weft::format_cpulist({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(weft::format_cpulist({11, 3, 3, 2}), "2-3,11");
  EXPECT_EQ(weft::format_cpulist({}), "");
  const ids sample = {0, 2, 5, 6, 63, 64, 65, 200};
  EXPECT_EQ(weft::parse_cpulist(weft::format_cpulist(sample)).value(), sample);
}

}  // namespace
