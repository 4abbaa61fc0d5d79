// weft-verify: runs every Relacy suite and negative control and reports them.
//
//   weft-verify [--quick] [--filter REGEX] [--scheduler random|bound|full]
//               [--iterations N] [--json] [--history] [--list]
//
// Exit status: 0 when every property passes and every negative control is
// caught; 1 otherwise; 2 on a bad argument.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace weft::verify;

struct options {
  bool quick = false;
  bool json = false;
  bool history = false;
  bool list = false;
  std::string filter;
  std::vector<scheduler> schedulers;
  std::uint64_t iterations = 0;  // 0: the budget's default
};

struct outcome_row {
  const relacy_case* c;
  std::uint64_t iterations;
  const char* outcome;
  double seconds;
  std::string failure;
};

constexpr const char* usage_text =
    "usage: weft-verify [--quick] [--filter REGEX] [--scheduler random|bound|full] [--iterations N]\n"
    "                   [--json] [--history] [--list]\n"
    "  --quick            the CI budget (100,000 random iterations, context bound 2)\n"
    "  --filter REGEX     only cases whose 'primitive: property [scheduler]' matches (case-insensitive)\n"
    "  --scheduler S      only cases run under S (repeatable)\n"
    "  --iterations N     random-scheduler iterations (default 1,000,000; 100,000 with --quick)\n"
    "  --json             one JSON object with a 'results' array on stdout\n"
    "  --history          print Relacy's execution history for every unexpected result\n"
    "  --list             list the selected cases without running them\n"
    "exit status: 0 all as expected; 1 a property failed or a control was missed; 2 bad arguments\n";

[[noreturn]] void usage_error(const char* message, const char* value) {
  std::fprintf(stderr, "weft-verify: %s '%s'\n%s", message, value, usage_text);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) usage_error("missing value after", flag);
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--history") {
      o.history = true;
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "--filter") {
      o.filter = value("--filter");
    } else if (a == "--scheduler") {
      const std::string s = value("--scheduler");
      if (s == "random") o.schedulers.push_back(scheduler::random);
      else if (s == "bound") o.schedulers.push_back(scheduler::bound);
      else if (s == "full") o.schedulers.push_back(scheduler::full);
      else usage_error("unknown scheduler (expected random, bound or full):", s.c_str());
    } else if (a == "--iterations") {
      const char* text = value("--iterations");
      // strtoull accepts "-5" (and wraps it), so only digits are allowed.
      const bool digits = *text != '\0' && std::strspn(text, "0123456789") == std::strlen(text);
      errno = 0;
      const unsigned long long n = digits ? std::strtoull(text, nullptr, 10) : 0;
      if (!digits || errno == ERANGE || n == 0) {
        usage_error("--iterations needs a positive integer, got", text);
      }
      o.iterations = n;
    } else if (a == "--help" || a == "-h") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else {
      usage_error("unknown argument", a.c_str());
    }
  }
  return o;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') { out += '\\'; out += ch; }
    else if (static_cast<unsigned char>(ch) < 0x20) { char buf[8]; std::snprintf(buf, sizeof buf, "\\u%04x", ch); out += buf; }
    else out += ch;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const options opt = parse(argc, argv);

  std::regex filter;
  try {
    filter = std::regex(opt.filter.empty() ? std::string(".*") : opt.filter, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error&) {
    usage_error("--filter is not a valid regular expression:", opt.filter.c_str());
  }

  run_config config;
  config.random_iterations = opt.iterations ? opt.iterations : (opt.quick ? 100'000 : 1'000'000);
  config.context_bound = opt.quick ? 2 : 3;
  config.keep_history = opt.history;

  std::vector<const relacy_case*> selected;
  for (const relacy_case& c : registry()) {
    const std::string key = std::string(c.primitive) + ": " + c.property + " [" + name_of(c.sched) + "]";
    if (!std::regex_search(key, filter)) continue;
    if (!opt.schedulers.empty()) {
      bool wanted = false;
      for (scheduler s : opt.schedulers) wanted |= (s == c.sched);
      if (!wanted) continue;
    }
    selected.push_back(&c);
  }
  if (selected.empty()) {
    std::fprintf(stderr, "weft-verify: no case matches the filter '%s'\n", opt.filter.c_str());
    return 2;
  }

  if (opt.list) {
    for (const relacy_case* c : selected) {
      std::printf("%-20s %-44s %-7s %u threads, expect %s\n", c->primitive, c->property, name_of(c->sched), c->threads,
                  name_of(c->expected));
    }
    return 0;
  }

  const bool live = isatty(STDERR_FILENO) != 0 || std::getenv("WEFT_PROGRESS") != nullptr;
  progress().set_enabled(live);

  std::vector<outcome_row> rows;
  int failures = 0;
  const auto start_all = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const relacy_case& c = *selected[i];
    char label[160];
    std::snprintf(label, sizeof label, "[%zu/%zu] %s: %s (%s, %u threads)", i + 1, selected.size(), c.primitive,
                  c.property, name_of(c.sched), c.threads);
    progress().begin(label);
    if (!live && !opt.json) std::fprintf(stderr, "%s ...\n", label);

    const auto start = std::chrono::steady_clock::now();
    const run_result r = c.run(c.sched, config);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const char* outcome;
    if (c.expected == expect::pass) outcome = r.passed ? "pass" : "fail";
    else outcome = r.passed ? "missed" : "caught";
    const bool bad = (std::strcmp(outcome, "fail") == 0 || std::strcmp(outcome, "missed") == 0);
    failures += bad ? 1 : 0;
    rows.push_back({&c, r.iterations, outcome, seconds, r.failure});

    if (bad && opt.history && !r.history.empty()) {
      std::fprintf(stderr, "\n--- %s: %s [%s]: %s ---\n%s\n", c.primitive, c.property, name_of(c.sched), outcome,
                   r.history.c_str());
    }
  }
  if (live) std::fprintf(stderr, "\r\033[K");
  const double total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_all).count();

  if (opt.json) {
    std::printf("{\"budget\": \"%s\", \"random_iterations\": %llu, \"context_bound\": %u, \"results\": [\n",
                opt.quick ? "quick" : "full", static_cast<unsigned long long>(config.random_iterations),
                config.context_bound);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const outcome_row& row = rows[i];
      std::printf("  {\"primitive\": \"%s\", \"property\": \"%s\", \"scheduler\": \"%s\", \"threads\": %u, "
                  "\"iterations\": %llu, \"expected\": \"%s\", \"outcome\": \"%s\", \"seconds\": %.3f, "
                  "\"detail\": \"%s\"}%s\n",
                  json_escape(row.c->primitive).c_str(), json_escape(row.c->property).c_str(), name_of(row.c->sched),
                  row.c->threads, static_cast<unsigned long long>(row.iterations), name_of(row.c->expected),
                  row.outcome, row.seconds, json_escape(row.failure).c_str(), i + 1 < rows.size() ? "," : "");
    }
    std::printf("], \"passed\": %zu, \"failed\": %d, \"seconds\": %.3f}\n", rows.size() - failures, failures,
                total_seconds);
  } else {
    std::printf("%-18s %-46s %-7s %7s %10s %-8s %-8s %8s  %s\n", "primitive", "property", "sched", "threads",
                "iterations", "expected", "outcome", "seconds", "detail");
    for (const outcome_row& row : rows) {
      std::printf("%-18s %-46s %-7s %7u %10llu %-8s %-8s %8.2f  %s\n", row.c->primitive, row.c->property,
                  name_of(row.c->sched), row.c->threads, static_cast<unsigned long long>(row.iterations),
                  name_of(row.c->expected), row.outcome, row.seconds, row.failure.c_str());
    }
    std::printf("\nweft-verify (%s budget: random %llu iterations, context bound %u) in %.1f s\n",
                opt.quick ? "quick" : "full", static_cast<unsigned long long>(config.random_iterations),
                config.context_bound, total_seconds);
  }
  std::fprintf(opt.json ? stderr : stdout, "%zu passed, %d failed\n", rows.size() - failures, failures);
  return failures == 0 ? 0 : 1;
}
