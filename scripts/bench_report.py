#!/usr/bin/env python3
"""Runs weft's benchmarks and writes bench/RESULTS.md.

    python3 scripts/bench_report.py --build build/default --out bench/RESULTS.md

Every figure in the output is measured by this run, on this machine: the
weft rows and their peers run in the same process invocation per category,
with Google Benchmark's random interleaving of repetitions, and every ratio
compares rows of one run. Each repetition carries the cache-line probe taken
right before and after it (see bench/README.md); ratios are computed from the
repetitions that ran in the run's dominant placement whenever both rows have
some there.

Targets are reported, never asserted. The script exits non-zero only if the
benchmark binary fails or a repetition reports an error (a lost, duplicated
or misordered item fails its repetition).
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

# (category, filter regex, repetitions[, options]). Options: binary (default weft_bench), env (set for that
# process; OMP_WAIT_POLICY is removed unless a category sets it), isolate (every benchmark of the category runs
# in a process of its own: the idle-CPU rows measure the whole process), group (a name --only also accepts).
# About 50 s for weft_bench and 60 s for weft_executor_bench on 2 quiet vCPUs, a few minutes on busy ones.
EXECUTOR = {"binary": "weft_executor_bench", "group": "executor"}
PASSIVE = {"OMP_WAIT_POLICY": "passive"}
# The proactor against raw liburing, pread, timerfd and eventfd+epoll (bench/proactor/): about 40 s on 2 quiet vCPUs.
PROACTOR = {"binary": "weft_proactor_bench", "group": "proactor"}
CATEGORIES = [
    ("mpsc", r"^mpsc_", 21),
    ("mailbox", r"^mailbox/", 21),
    ("wake", r"^wake_round_trip/", 15),
    ("notify", r"^notify_no_waiter/", 7),
    ("exec_wake", r"^exec_(parked_wake|warm_pickup|wake_all)/", 9, EXECUTOR),
    ("exec_sequential", r"^exec_sequential/", 9, EXECUTOR),
    ("parallel_for", r"^parallel_for/", 9, EXECUTOR),
    ("parallel_for_passive", r"^parallel_for/openmp", 5, dict(EXECUTOR, env=PASSIVE)),
    ("idle_cpu", r"^idle_cpu/", 3, dict(EXECUTOR, isolate=True)),
    ("idle_cpu_passive", r"^idle_cpu/openmp", 3, dict(EXECUTOR, isolate=True, env=PASSIVE)),
    ("io_nop", r"^io_nop/", 9, PROACTOR),
    ("io_read", r"^io_read4k/", 9, PROACTOR),
    ("io_wake", r"^io_wake/", 9, PROACTOR),
    ("io_timer", r"^io_timer/", 5, PROACTOR),
]

PACKAGES = ["libbenchmark-dev", "libboost-dev", "libconcurrentqueue-dev", "libtbb-dev", "libgomp1", "liburing-dev", "g++",
            "cmake",
            "ninja-build"]

# Placement classes from the probe (cache-line round trip CPU0<->CPU1, ns).
NEAR_MAX_NS = 150.0
FAR_MIN_NS = 350.0

SUFFIX = re.compile(r"^(iterations|min_time|repeats|real_time|manual_time|threads|process_time)(:.*)?$")

WEFT_HANDOFF = ["weft_slist_flush", "weft_slist_flush_fifo", "weft_slist_pop", "weft_queue"]
PEER_HANDOFF = ["boost_lockfree_queue", "boost_lockfree_stack", "moodycamel", "moodycamel_tokens",
                "moodycamel_tokens_bulk", "tbb_concurrent_queue", "mutex_deque"]
# Display order of rows: weft first, then peers, then anything new alphabetically.
ROW_ORDER = WEFT_HANDOFF + PEER_HANDOFF + [
    "weft_slist_push_chain", "weft_queue_push_chain", "moodycamel_enqueue_bulk", "mutex_deque_bulk",
    "weft_completion_mailbox", "boost_lockfree_queue_fixed", "boost_spsc_queue",
    "futex_raw", "weft_event_count", "weft_event_count_counted", "weft_spin_then_wait", "std_condition_variable", "std_atomic_wait",
    "moodycamel_lwsem", "moodycamel_lwsem_nospin",
    "weft_event_count_notify_one", "weft_event_count_notify_all", "weft_event_count_counted_notify_one",
    "futex_wake_raw", "std_condition_variable_notify_one", "std_atomic_notify_one", "moodycamel_lwsem_signal"]
# Executor rows (bench/executor/): floors first, then the peers, then the weft configurations.
WEFT_EXEC = ["weft_executor", "weft_executor_1w", "weft_executor_spin0", "weft_executor_spin_default"]
ROW_ORDER += ["spin_raw", "serial_call", "serial_loop", "condvar_pool", "tbb", "tbb_simple", "tbb_auto",
              "openmp_default", "openmp_passive"] + WEFT_EXEC
# Proactor rows (bench/proactor/): the peers and floors first, then the weft rows.
WEFT_IO = ["weft_uring", "weft_uring_no_nowait", "weft_epoll", "weft_uring_nop", "weft_epoll_nop", "weft_uring_event",
           "weft_epoll_event"]
ROW_ORDER += ["pread", "liburing", "eventfd_epoll", "eventfd_uring_poll", "clock_nanosleep", "timerfd_epoll",
              "liburing_timeout"] + WEFT_IO


def row_key(row):
    return (ROW_ORDER.index(row.peer) if row.peer in ROW_ORDER else len(ROW_ORDER), row.peer, row.variant)


# ----------------------------------------------------------------------------------------------
# Running


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def sh(cmd):
    try:
        r = run(cmd, shell=True)
        return r.stdout.strip()
    except OSError:
        return ""


def category_options(category):
    options = category[3] if len(category) > 3 else {}
    return options.get("binary", "weft_bench"), options


def ere_escape(text):
    """Escapes a benchmark name for Google Benchmark's filter (POSIX extended regex)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)


def run_benchmarks(binary, name, pattern, reps, out, env):
    cmd = [binary, f"--benchmark_filter={pattern}", f"--benchmark_repetitions={reps}",
           "--benchmark_enable_random_interleaving=true", f"--benchmark_out={out}",
           "--benchmark_out_format=json", "--benchmark_format=console"]
    r = run(cmd, env=env)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        raise SystemExit(f"bench_report: {binary} failed for category {name} (exit {r.returncode})")
    try:
        with open(out) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run_category(binary, name, pattern, reps, json_dir, options=None):
    options = options or {}
    out = os.path.join(json_dir, f"bench-{name}.json")
    env = dict(os.environ)
    if binary.endswith("weft_executor_bench"):
        env.pop("OMP_WAIT_POLICY", None)
    env.update(options.get("env", {}))
    start = time.monotonic()
    if options.get("isolate"):
        listed = run([binary, "--benchmark_list_tests=true", f"--benchmark_filter={pattern}"], env=env)
        names = [n.strip() for n in listed.stdout.splitlines() if n.strip()]
        print(f"bench_report: {name}: {len(names)} benchmarks, one process each, {reps} repetitions ...",
              file=sys.stderr, flush=True)
        data = None
        for bench in names:
            part = run_benchmarks(binary, name, "^" + ere_escape(bench) + "$", reps, out + ".part", env)
            if part is None:
                continue
            if data is None:
                data = part
            else:
                data["benchmarks"] += part.get("benchmarks", [])
        if os.path.exists(out + ".part"):
            os.remove(out + ".part")
        if data is not None:
            with open(out, "w") as f:
                json.dump(data, f, indent=1)
    else:
        print(f"bench_report: {name}: {reps} interleaved repetitions ...", file=sys.stderr, flush=True)
        data = run_benchmarks(binary, name, pattern, reps, out, env)
    elapsed = time.monotonic() - start
    if data is None:
        # No benchmark of this category was built (its header did not exist).
        print(f"bench_report: {name}: no benchmarks in this build", file=sys.stderr, flush=True)
        return {"benchmarks": []}, elapsed
    print(f"bench_report: {name}: done in {elapsed:.0f} s", file=sys.stderr, flush=True)
    return data, elapsed


# ----------------------------------------------------------------------------------------------
# Parsing

TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def base_name(name):
    return "/".join(p for p in name.split("/") if not SUFFIX.match(p))


def placement_of(before, after):
    def one(p):
        if p < 0:
            return "unknown"
        if p <= NEAR_MAX_NS:
            return "near"
        if p >= FAR_MIN_NS:
            return "far"
        return "mid"
    a, b = one(before), one(after)
    return a if a == b else "mixed"


class Row:
    """All repetitions of one benchmark."""

    def __init__(self, name):
        self.name = name
        parts = name.split("/")
        self.family, self.peer, self.variant = parts[0], parts[1], "/".join(parts[2:])
        self.reps = []
        self.errors = []

    def add(self, entry):
        if entry.get("error_occurred"):
            self.errors.append(entry.get("error_message", "error"))
            return
        scale = TO_NS[entry.get("time_unit", "ns")]
        rep = {"real_ns": entry["real_time"] * scale, "cpu_ns": entry["cpu_time"] * scale}
        for key, value in entry.items():
            if isinstance(value, (int, float)) and key not in rep:
                rep[key] = float(value)
        before = rep.get("probe_before_ns", -1.0)
        after = rep.get("probe_after_ns", -1.0)
        rep["placement"] = placement_of(before, after)
        if "items_per_iteration" in rep:
            rep["value"] = rep["real_ns"] / rep["items_per_iteration"]  # ns per item
        else:
            rep["value"] = rep.get("mean_ns", rep["real_ns"])  # ns per round trip / per op
        self.reps.append(rep)

    def values(self, key="value", placement=None):
        return [r[key] for r in self.reps if key in r and (placement is None or r["placement"] == placement)]

    def median(self, key="value", placement=None):
        v = self.values(key, placement)
        return statistics.median(v) if v else None

    def spread(self, key="value"):
        v = self.values(key)
        if len(v) < 2:
            return None
        m = statistics.median(v)
        return (max(v) - min(v)) / m if m else None

    def probe(self):
        v = self.values("probe_before_ns")
        v = [x for x in v if x >= 0]
        return (statistics.median(v), min(v), max(v)) if v else None

    def placements(self):
        counts = {}
        for r in self.reps:
            counts[r["placement"]] = counts.get(r["placement"], 0) + 1
        return counts


def parse(data):
    rows = {}
    for entry in data.get("benchmarks", []):
        if entry.get("run_type") == "aggregate":
            continue
        name = base_name(entry.get("run_name", entry["name"]))
        rows.setdefault(name, Row(name)).add(entry)
    return rows


def dominant_placement(rows):
    counts = {}
    for row in rows:
        for p, n in row.placements().items():
            counts[p] = counts.get(p, 0) + n
    counts.pop("mixed", None)
    counts.pop("unknown", None)
    return max(counts, key=counts.get) if counts else None


def matched(a, b, dominant, key="value"):
    """Medians of rows a and b over the dominant placement if both have
    repetitions there, else over all repetitions. Returns (ma, mb, basis)."""
    if dominant:
        ma, mb = a.median(key, dominant), b.median(key, dominant)
        if ma is not None and mb is not None:
            return ma, mb, dominant
    return a.median(key), b.median(key), "all"


# ----------------------------------------------------------------------------------------------
# Formatting


def fmt(x, digits=3):
    if x is None:
        return "—"
    if x >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_ratio(x):
    if x is None:
        return "—"
    return f"{x:.2g}×" if x < 0.1 else f"{x:.2f}×"


def fmt_probe(row):
    p = row.probe()
    return "—" if p is None else f"{p[0]:.0f} ({p[1]:.0f}–{p[2]:.0f})"


def fmt_placements(row):
    c = row.placements()
    return " ".join(f"{k}:{c[k]}" for k in ("near", "mid", "far", "mixed", "unknown") if k in c)


def fmt_spread(row, key="value"):
    s = row.spread(key)
    return "—" if s is None else f"{100 * s:.0f}%"


def fmt_probe_spread(row):
    return fmt_probe(row) + " " + fmt_spread(row)


# ----------------------------------------------------------------------------------------------
# Machine description


def machine_section(build):
    lines = []
    wanted = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Socket(s)", "Hypervisor vendor",
              "Virtualization type", "L1d cache", "L2 cache", "L3 cache", "NUMA node(s)")
    for line in sh("lscpu").splitlines():
        key = line.split(":", 1)[0].strip()
        if key in wanted:
            lines.append(f"{key}: {line.split(':', 1)[1].strip()}")
    lines.append(f"kernel: {platform.release()}")
    idle = sh("cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null") or "unknown"
    halt = sh("cat /sys/module/haltpoll/parameters/guest_halt_poll_ns 2>/dev/null")
    lines.append(f"cpuidle driver: {idle}" + (f" (guest_halt_poll_ns={halt})" if halt else ""))
    lines.append("clocksource: " + (sh("cat /sys/devices/system/clocksource/clocksource0/current_clocksource") or "?"))
    cache = {}
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                m = re.match(r"^(CMAKE_CXX_COMPILER|CMAKE_BUILD_TYPE|CMAKE_CXX_FLAGS_\w+|CMAKE_CXX_FLAGS):\w+=(.*)$", line)
                if m:
                    cache[m.group(1)] = m.group(2).strip()
    except OSError:
        pass
    compiler = cache.get("CMAKE_CXX_COMPILER", "c++")
    lines.append("compiler: " + (sh(f"{compiler} --version | head -1") or compiler))
    build_type = cache.get("CMAKE_BUILD_TYPE", "?")
    flags = cache.get(f"CMAKE_CXX_FLAGS_{build_type.upper()}", "")
    lines.append(f"build: {build_type} ({flags}); the bench target adds -O2 -DNDEBUG")
    versions = []
    for p in PACKAGES:
        v = sh(f"dpkg-query -W -f='${{Version}}' {p} 2>/dev/null")
        versions.append(f"{p}={v or 'not installed'}")
    lines.append("packages: " + " ".join(versions))
    return lines


# ----------------------------------------------------------------------------------------------
# Sections


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def usable(row):
    return row is not None and not row.errors and row.reps


def fmt_failed(row):
    return "FAILED: " + row.errors[0] if row is not None and row.errors else "—"


def peer_and_value(row):
    """The lead cells of a row whose variant is one 'name:value' part: the peer and the value ("tiles:16" -> 16)."""
    return [row.peer, row.variant.split(":")[-1]]


def by_number(cells):
    """Sort key of peer_and_value lines: by the value where it is a number."""
    return int(cells[1]) if cells[1].isdigit() else 0


def row_table(header, rows, cells, lead=lambda r: [r.peer], sort_key=None):
    """A table with a line per row: lead(row) + cells(row); a row without a usable repetition gets its failure
    after its lead cells instead, padded to the header's width. sort_key, if given, orders the lines."""
    body = []
    for r in rows:
        first = lead(r)
        body.append(first + (cells(r) if usable(r) else [fmt_failed(r)] + [""] * (len(header) - len(first) - 1)))
    if sort_key:
        body.sort(key=sort_key)
    return table(header, body) + [""]


def variant_header(variants, columns):
    """The header of a peer_table: "row", then each column prefixed with each variant in turn."""
    return ["row"] + [f"{v} {c}" for v in variants for c in columns]


def peer_table(header, rows, variants, cells, missing, label=lambda peer: peer):
    """A table with a line per peer (in row order): label(peer), then for each variant cells(row, variant) from
    the peer's row for it or, if that row is absent or has no usable repetition, missing(row or None)."""
    by = by_key(rows)
    body = []
    for peer in dict.fromkeys(r.peer for r in rows):
        line = [label(peer)]
        for v in variants:
            r = by.get((peer, v))
            line += cells(r, v) if usable(r) else missing(r)
        body.append(line)
    return table(header, body) + [""]


def throughput_section(title, intro, rows, dominant, producers_list=("producers:1", "producers:2")):
    out = [f"### {title}", "", intro, ""]
    header = variant_header(producers_list, ("Mitems/s (ns/item)", "spread", "probe ns", "placements"))

    def cells(row, _):
        ns = row.median()
        return [f"{1000 / ns:.1f} ({fmt(ns)})", fmt_spread(row), fmt_probe(row), fmt_placements(row)]
    return out + peer_table(header, rows, producers_list, cells,
                            lambda row: ["n/a" if row is None else fmt_failed(row), "", "", ""])


def ratio_matrix(title, rows, subjects, peers, dominant, variants):
    """Throughput ratios subject/peer (>1: the weft row hands over more per second)."""
    out = [f"### {title}", ""]
    header = ["weft row", "producers"] + peers
    body = []
    by = {(r.peer, r.variant): r for r in rows}
    for s in subjects:
        for v in variants:
            a = by.get((s, v))
            if a is None or a.errors:
                continue
            cells = [s, v.split(":")[-1]]
            for p in peers:
                b = by.get((p, v))
                if b is None or b.errors:
                    cells.append("—")
                    continue
                ma, mb, basis = matched(a, b, dominant)
                cells.append(fmt_ratio(mb / ma) + ("" if basis == dominant else " †"))
            body.append(cells)
    return out + table(header, body) + [""]


def ratio(rows, subject, peer, variant, dominant, key="value", inverse=True):
    by = {(r.peer, r.variant): r for r in rows}
    a, b = by.get((subject, variant)), by.get((peer, variant))
    if a is None or b is None or a.errors or b.errors or not a.reps or not b.reps:
        return None, None
    ma, mb, basis = matched(a, b, dominant, key)
    return (mb / ma if inverse else ma / mb), basis


# ----------------------------------------------------------------------------------------------
# Targets

WHY = {
    "slist_vs_boost": "boost::lockfree::queue pays, per item, a node from its free list (a CAS on a list the "
                      "consumer also pushes to), a CAS to link and one to swing the tail, and a CAS on the head to "
                      "pop; the weft push is one CAS. When the weft row stays under 4x anyway, its single push is "
                      "waiting on the head's cache line, which the consumer's polls keep pulling to the other CPU: "
                      "that cost follows the probe, not the instruction count.",
    "vs_moodycamel": "moodycamel (with or without tokens) gives each producer its own sub-queue: an enqueue writes "
                     "into a block and a tail index that only that producer writes, and the consumer reads them "
                     "later, in bulk. Every weft push is an atomic RMW on one word the consumer also reads (and, "
                     "with two producers, that the other producer also writes), so each consumer poll and each "
                     "push from the other CPU moves that line between the CPUs. And the weft consumer walks a "
                     "linked chain: each job's address is inside the previous job, so its misses on lines the "
                     "producer's CPU just wrote happen one after another, while moodycamel's consumer reads job "
                     "pointers from a block, 8 to a line, and the CPU can overlap its misses on the jobs.",
    "queue_chase": "weft::mpsc_queue's consumer follows the producer link by link: when it keeps up, every pop waits "
                   "for a line the producer has just written (latency-bound, one transfer per item, see the probe), "
                   "and a producer caught between its exchange and its link store holds the consumer up "
                   "(mid_push). The flush-based mpsc_slist takes everything published in one exchange instead.",
    "mutex_batch": "The mutex+deque baseline's consumer swaps the whole deque out under the lock, so it takes the "
                   "lock once per batch, and a producer's lock is uncontended whenever the consumer is busy "
                   "elsewhere; what is left per job is a lock/unlock pair on a line the other CPU may hold, the "
                   "same line transfer an intrusive push pays for its CAS.",
    "p2_shared_cpu": "With 2 producers, producer 1 shares CPU 0 with the consumer, so the row also measures how the "
                     "scheduler time-slices those two. And whenever both producers run at once they are on different "
                     "CPUs: a structure with one shared head (the slist's CAS, the queue's exchange, a mutex) moves "
                     "that line between the CPUs on every push, while moodycamel with tokens gives each producer its "
                     "own sub-queue and shares no line between producers.",
    "chain": "Both sides publish a prepared batch with one atomic operation, so what is left is mostly the "
             "consumer: the weft consumer finds the next job only by reading the link inside the current one, a "
             "chain of dependent misses on lines the producer's CPU just wrote, while try_dequeue_bulk (and the "
             "mutex+deque swap) hand over an array of pointers whose jobs the CPU can fetch in parallel.",
    "chain_mutex": "mutex_deque_bulk takes its lock once per 64-job batch and its consumer swaps the whole deque "
                   "out, so the mutex's cost per job is divided by 64; what remains per job on both sides is "
                   "preparing the batch and the consumer's read of each job's line, which no queue design removes. "
                   "Against single pushes into the same deque the chain push is far ahead (shown on the line).",
    "mailbox": "Every message costs one claim CAS and one sequence store per producer and one sequence check per "
               "slot on the consumer; boost's fixed-capacity queue does two CAS plus a free-list round trip per "
               "message, so if the ratio stays under 2× the slots' cache-line transfers dominate both.",
    "wake": "A round trip is two futex wakeups of a halted vCPU; event_count adds one RMW on the waiter count per "
            "wait and per notify. If the ratio is above 1.3×, look at the probe and spread columns: the floor row "
            "and the event_count row may have run in different host placements.",
    "notify": "The counted backend saw a futex call during notifies with no waiter: the fast path is broken.",
    "exec_parked": "A parked round trip is one or two wakes of a halted vCPU (tens of µs). The executor adds about a "
                   "microsecond to it: the drain_gate CAS, the ready-queue push and the idle_set claim before its "
                   "FUTEX_WAKE, and on the worker the return from park, the relay check and a scan of the compute "
                   "slots and the ready queue before the drain. So compare the p50 ratio first: a mean far above it "
                   "comes from the few dispatches that waited for a scheduler tick (4 ms) because another process "
                   "held the worker's CPU. That hits the default-spin row hardest: its worker has just spun for its "
                   "whole budget on that CPU, and this kernel's scheduler (EEVDF) does not let a thread that used "
                   "more than its share preempt the running task when it wakes; the futex thread never spins.",
    "exec_warm": "A warm pickup is a chain of cache-line transfers between the two CPUs, each one probe-sized "
                 "(~60 ns near, 200–500 ns far): the caller builds the process and pushes it on the ready queue, the "
                 "spinning worker sees the queue change, scans the compute slots, pops, drains, and the on_complete "
                 "store travels back. Three or more transfers one after another plus the scan: 300 ns needs the "
                 "near placement. spin_raw (one transfer each way) is the floor to read it against.",
    "exec_warm_tail": "A p99 above 2× p50 comes from dispatches that met a worker which had just ended its spin "
                      "(parks_per_dispatch > 0), a host moving a vCPU (probe column), or another process on a CPU.",
    "exec_parallel_for": "weft's caller cannot take tiles. TBB, OpenMP and the condvar pool run tiles on the calling "
                         "thread at once, so with 2 tiles of 50 ns they barely involve a second thread, while every "
                         "weft dispatch crosses to a worker and back (the warm-pickup chain, ~0.7–1 µs at the mid "
                         "placement) before its first tile runs. With 2 vCPUs the caller then either blocks "
                         "(weft_executor: the completion pays a wake of the caller, several µs, and when the worker "
                         "that shares the caller's CPU goes on spinning for its budget after the dispatch, the caller "
                         "waits for that spin: see its p99) or spins beside a single worker (weft_executor_1w: one "
                         "CPU of tiles). At ≤ 16 tiles that fixed cost is most of the dispatch; the fastest weft row "
                         "at each tile count is the one compared.",
    "io_nop": "A weft NOP does more than a raw one around the same ring: submit() validates the op and takes "
              "ownership (a CAS on its in-flight word; on the poll thread the op then starts at once, from another "
              "thread it goes through the lock-free submission list and the doorbell); the core fills the SQE, "
              "reaps the CQE, maps it back to the op, hands it back (a second CAS) and calls its callback. The raw "
              "loop only fills an SQE and reaps. At batch 1 both rows make one io_uring_enter per NOP, so the gap "
              "is weft's per-op work; at batch 32 that one system call is shared by 32 NOPs and the kernel's own "
              "NOP costs about 90-100 ns, so weft's per-op work (about 100 ns in a perf profile of this row: "
              "submit with its CAS, the SQE, the CQE mapping, the ready list, the hand-back CAS, the callback) "
              "decides the ratio; 0.9× would leave it about 10 ns.",
    "io_read": "A read whose page is cached costs a copy of 4 KiB plus the path to it. pread is one system call per "
               "read; io_uring adds an SQE, a CQE and task work per read but shares one io_uring_enter among the "
               "reads in flight. weft with nowait_reads runs a read inline (preadv2 RWF_NOWAIT) when it would "
               "enter the kernel alone, and sends reads that would share an enter to the ring. So at qd:1 it is "
               "at best pread plus its own per-op work (submit, ownership, callback) and preadv2's iovec path "
               "(2-5% slower than pread on this machine, measured apart from this run), and at qd:32 it is at best "
               "liburing plus that per-op work: meeting 1.0× would need that work to cost nothing. "
               "With nowait_reads masked every read takes the ring.",
    "exec_idle": "A weft worker spins for exec::tuning::worker_spin_ns after its last work and then parks, so more "
                 "than 1% of a core over a second means something kept waking the workers: check the first-10-ms "
                 "and after-100-ms columns.",
}


def targets(sections):
    """Returns lines 'met'/'missed' with the measured ratio and the basis."""
    lines = []
    missed_reasons = {}  # insertion-ordered set

    def line(ok, text, reason=None):
        if ok is None:
            lines.append(f"- **not measured**: {text}")
            return
        lines.append(f"- **{'met' if ok else 'MISSED'}**: {text}")
        if not ok and reason:
            missed_reasons[reason] = True

    rows, dom = sections.get("mpsc_handoff", ([], None))
    for subject in ("weft_slist_flush", "weft_queue"):
        for v in ("producers:1", "producers:2"):
            for peer, goal, reason in (("boost_lockfree_queue", 4.0, "slist_vs_boost"),
                                       ("moodycamel", 1.2, "vs_moodycamel"),
                                       ("moodycamel_tokens", 1.0, "vs_moodycamel"),
                                       ("mutex_deque", 4.0, "mutex_batch")):
                r, basis = ratio(rows, subject, peer, v, dom)
                missed = r is not None and r < goal
                if missed and subject == "weft_queue":
                    missed_reasons["queue_chase"] = True
                if missed and v == "producers:2":
                    missed_reasons["p2_shared_cpu"] = True
                line(None if r is None else not missed,
                     f"MPSC handoff {subject} ≥ {goal:g}× {peer} ({v}): {fmt_ratio(r)}"
                     + ("" if r is None else f" [{basis}]"), reason)
    rows, dom = sections.get("mpsc_chain", ([], None))
    for v in ("producers:1", "producers:2"):
        r, basis = ratio(rows, "weft_slist_push_chain", "moodycamel_enqueue_bulk", v, dom)
        line(None if r is None else r >= 1.0,
             f"chain push weft_slist_push_chain ≥ 1.0× moodycamel_enqueue_bulk ({v}): {fmt_ratio(r)}"
             + ("" if r is None else f" [{basis}]"), "chain")
    # The issue lists ">= 4x mutex+deque" after the chain target. Checked for the single-push rows above and
    # here for the chain push against a mutex+deque that also appends each batch under one lock (the fair
    # pairing); the ratio against the single-push mutex_deque row is shown beside it.
    hrows, _ = sections.get("mpsc_handoff", ([], None))
    for v in ("producers:1", "producers:2"):
        r, basis = ratio(rows, "weft_slist_push_chain", "mutex_deque_bulk", v, dom)
        single, _ = ratio(rows + hrows, "weft_slist_push_chain", "mutex_deque", v, dom)
        line(None if r is None else r >= 4.0,
             f"chain push weft_slist_push_chain ≥ 4× mutex_deque_bulk ({v}): {fmt_ratio(r)}"
             + ("" if r is None else f" [{basis}]")
             + ("" if single is None else f"; against single pushes into mutex_deque: {fmt_ratio(single)}"),
             "chain_mutex")
    rows, dom = sections.get("mailbox", ([], None))
    if rows:
        for v in ("producers:1", "producers:2"):
            r, basis = ratio(rows, "weft_completion_mailbox", "boost_lockfree_queue_fixed", v, dom)
            line(None if r is None else r >= 2.0,
                 f"completion_mailbox ≥ 2× boost::lockfree::queue fixed capacity ({v}): {fmt_ratio(r)}"
                 + ("" if r is None else f" [{basis}]"), "mailbox")
    else:
        line(None, "completion_mailbox ≥ 2× boost::lockfree::queue (benchmark not built)")
    rows, dom = sections.get("wake_round_trip", ([], None))
    r, basis = ratio(rows, "weft_event_count", "futex_raw", "cross_cpu", dom, key="value", inverse=False)
    r50, _ = ratio(rows, "weft_event_count", "futex_raw", "cross_cpu", dom, key="p50_ns", inverse=False)
    line(None if r is None else r <= 1.3,
         f"event_count wake round trip ≤ 1.3× the futex floor (cross-CPU, mean): {fmt_ratio(r)}"
         + ("" if r is None else f" [{basis}]; p50 ratio {fmt_ratio(r50)}"), "wake")
    rows, _ = sections.get("notify_no_waiter", ([], None))
    counted = next((x for x in rows if x.peer == "weft_event_count_counted_notify_one"), None)
    if counted is None or not counted.reps:
        line(None, "a notify with no waiter makes no system call")
    else:
        calls = max(counted.values("futex_calls_per_op"))
        plain = next((x for x in rows if x.peer == "weft_event_count_notify_one"), None)
        raw = next((x for x in rows if x.peer == "futex_wake_raw"), None)
        extra = ""
        if plain and raw and plain.reps and raw.reps:
            extra = f"; {fmt(plain.median())} ns per notify vs {fmt(raw.median())} ns for a bare FUTEX_WAKE"
        line(calls == 0, f"a notify with no waiter makes no system call: {calls:g} futex calls per notify "
                         f"(counting backend, every repetition){extra}", "notify")
    executor_targets(sections, line)
    proactor_targets(sections, line)
    return lines, missed_reasons


# ----------------------------------------------------------------------------------------------
# Executor (bench/executor/)


def by_key(rows):
    return {(r.peer, r.variant): r for r in rows}


def fmt_latency(row):
    return f"{fmt(row.median())} / {fmt(row.median('p50_ns'))} / {fmt(row.median('p99_ns'))}"


def fmt_vs(row, floor, dom):
    """'mean / p50' ratios row ÷ floor, matched on placement."""
    if not usable(row) or not usable(floor):
        return "—"
    m = matched(row, floor, dom)
    p = matched(row, floor, dom, "p50_ns")
    return f"{fmt_ratio(m[0] / m[1])} / {fmt_ratio(p[0] / p[1])}" + ("" if m[2] == dom else " †")


def fmt_counter(row, key, digits=3):
    v = row.values(key)
    return fmt(statistics.median(v), digits) if v else "—"


def best_weft(rows, variant):
    """The weft row with the lowest median time per dispatch for `variant`: the measured choice."""
    candidates = [r for r in rows if r.peer.startswith("weft_") and r.variant == variant and usable(r)]
    return min(candidates, key=lambda r: r.median()) if candidates else None


def executor_targets(sections, line):
    rows, dom = sections.get("exec_parked_wake", ([], None))
    by = by_key(rows)
    for weft in ("weft_executor_spin0", "weft_executor_spin_default"):
        r, basis = ratio(rows, weft, "futex_raw", "caller_blocks", dom, inverse=False)
        r50, _ = ratio(rows, weft, "futex_raw", "caller_blocks", dom, key="p50_ns", inverse=False)
        spins, _ = ratio(rows, weft, "futex_raw", "caller_spins", dom, inverse=False)
        parks = by.get((weft, "caller_blocks"))
        parked = "" if not usable(parks) else f"; {fmt_counter(parks, 'parks_per_dispatch')} parks per dispatch"
        line(None if r is None else r <= 1.3,
             f"parked wake {weft} ≤ 1.3× the futex ping-pong floor (caller blocks, mean): {fmt_ratio(r)}"
             + ("" if r is None else f" [{basis}]; p50 ratio {fmt_ratio(r50)}; with the caller spinning "
                                     f"(one wake) {fmt_ratio(spins)}{parked}"), "exec_parked")
    rows, dom = sections.get("exec_warm_pickup", ([], None))
    warm = by_key(rows).get(("weft_executor_spin_default", "cross_cpu"))
    if not usable(warm):
        line(None, "warm pickup ≤ 300 ns with p99 ≤ 2× p50")
    else:
        p50, p99 = warm.median("p50_ns"), warm.median("p99_ns")
        floor, _ = ratio(rows, "weft_executor_spin_default", "spin_raw", "cross_cpu", dom, key="p50_ns",
                         inverse=False)
        line(p50 <= 300, f"warm pickup weft_executor_spin_default p50 ≤ 300 ns: {fmt(p50)} ns "
                         f"(p50 {fmt_ratio(floor)} the spinning-thread floor; probe {fmt_probe(warm)} ns)", "exec_warm")
        line(p99 <= 2 * p50, f"warm pickup p99 ≤ 2× p50: p99 {fmt(p99)} ns = {fmt_ratio(p99 / p50)} p50",
             "exec_warm_tail")
    rows, dom = sections.get("parallel_for", ([], None))
    for tiles in ("tiles:2", "tiles:16"):
        weft = best_weft(rows, tiles)
        others = [r for r in rows if r.peer.startswith("weft_") and r.variant == tiles and usable(r) and r is not weft]
        for peer, goal in (("tbb_simple", 0.8), ("tbb_auto", 0.8), ("openmp_default", 1.0)):
            if weft is None:
                line(None, f"parallel-for ({tiles}) ≤ {goal:g}× {peer}")
                continue
            r, basis = ratio(rows, weft.peer, peer, tiles, dom, inverse=False)
            r50, _ = ratio(rows, weft.peer, peer, tiles, dom, key="p50_ns", inverse=False)
            rest = ""
            if others:
                rest += "; other weft rows (mean): " + ", ".join(
                    f"{o.peer} {fmt_ratio(ratio(rows, o.peer, peer, tiles, dom, inverse=False)[0])}" for o in others)
            if peer == "openmp_default":
                passive, _ = ratio(rows, weft.peer, "openmp_passive", tiles, dom, inverse=False)
                rest += f"; {weft.peer} against openmp_passive {fmt_ratio(passive)}"
            line(None if r is None else r <= goal,
                 f"parallel-for {tiles}: {weft.peer} (fastest weft row) ≤ {goal:g}× {peer} per dispatch (mean): "
                 f"{fmt_ratio(r)}" + ("" if r is None else f" [{basis}]; p50 ratio {fmt_ratio(r50)}") + rest,
                 "exec_parallel_for")
    rows, _ = sections.get("idle_cpu", ([], None))
    for weft in ("weft_executor", "weft_executor_spin0"):
        row = next((r for r in rows if r.peer == weft and usable(r)), None)
        if row is None:
            line(None, f"idle CPU of {weft} ≤ 1% of a core")
            continue
        pct = row.values("idle_cpu_pct")
        line(statistics.median(pct) <= 1.0,
             f"idle CPU of {weft} over the second after its last dispatch ≤ 1% of a core: "
             f"{statistics.median(pct):.2f}% (max {max(pct):.2f}% over {len(pct)} repetitions)", "exec_idle")


def futex_floor_table(variant_header, rows, dom):
    """The parked and wake-all tables: a line per row and variant, its latency against futex_raw's for the same
    variant."""
    by = by_key(rows)
    return row_table(["row", variant_header, "mean / p50 / p99 ns", "vs futex (mean / p50)", "parks/dispatch",
                      "probe ns, spread"], rows,
                     lambda r: [fmt_latency(r), fmt_vs(r, by.get(("futex_raw", r.variant)), dom),
                                fmt_counter(r, "parks_per_dispatch"), fmt_probe_spread(r)],
                     lead=lambda r: [r.peer, r.variant])


def per_unit_cells(rows, dom, against, inverse):
    """peer_table cells: ns per unit (millions per second), the ratio to the `against` row of the same variant
    (ratio()'s direction), the spread."""
    def cells(r, v):
        x, basis = ratio(rows, r.peer, against, v, dom, inverse=inverse)
        return [f"{fmt(r.median())} ({1000 / r.median():.2f})",
                "—" if x is None else fmt_ratio(x) + ("" if basis == dom else " †"), fmt_spread(r)]
    return cells


def executor_sections(sections):
    md = []
    if "exec_parked_wake" in sections:
        rows, dom = sections["exec_parked_wake"]
        md += ["## Executor: parked wake (schedule → drained → caller sees completion)", "",
               "One dispatch to one worker (CPU 1) that is parked; the caller is on CPU 0. ns per dispatch: mean / "
               "p50 / p99 (medians over repetitions). *caller_blocks*: the caller sleeps in FUTEX_WAIT until the "
               "completion, so a round trip is two wakes, the futex ping-pong; *caller_spins*: one wake. Every "
               "row waits the same gap (spin budget + 100 µs) between dispatches; the weft rows also wait until "
               "the worker parked (*parks/dispatch* ≥ 1). Ratios are row ÷ futex_raw with the same caller.", ""]
        md += futex_floor_table("caller", rows, dom)
    if "exec_warm_pickup" in sections:
        rows, dom = sections["exec_warm_pickup"]
        by = by_key(rows)
        md += ["## Executor: warm-worker pickup", "",
               "The same dispatch 2 µs after the previous one, while the worker is still spinning; the caller "
               "spins. spin_raw is a thread spinning on a flag: the cache-line floor (compare the probe).", ""]
        md += row_table(["row", "mean / p50 / p99 ns", "p99 ÷ p50", "vs spin_raw (mean / p50)", "parks/dispatch",
                         "probe ns, spread"], rows,
                        lambda r: [fmt_latency(r), fmt_ratio(r.median("p99_ns") / r.median("p50_ns")),
                                   fmt_vs(r, by.get(("spin_raw", r.variant)), dom),
                                   fmt_counter(r, "parks_per_dispatch"), fmt_probe_spread(r)])
    if "exec_wake_all" in sections:
        rows, dom = sections["exec_wake_all"]
        md += ["## Executor: wake all N parked workers", "",
               "One dispatch that every one of N parked workers must run (worker i on CPU i); the caller blocks, "
               "sharing a CPU with worker 0 (caller_cpu:0) or worker N-1. futex_raw: N threads woken by one "
               "FUTEX_WAKE; condvar_pool: notify_all; weft: a compute process with wake budget N that completes "
               "once every worker checked in (keep_active until then). weft's wake(N) posts one worker itself and "
               "leaves the rest as relay credit that the woken worker passes on (exec::tuning::wake_direct_max = 1: "
               "with two direct posts the first wakee could preempt the caller on its CPU before the second post "
               "and, busy in keep_active, leave the other asleep until a 4 ms scheduler tick). So a weft wake-all "
               "is two wake hops in a row, where futex_raw and condvar_pool wake everyone with one system call. "
               "With the default spin, the worker that shares the caller's CPU also spins for its budget after "
               "the dispatch, and the caller's own wake waits for that spin.", ""]
        md += futex_floor_table("variant", rows, dom)
    if "exec_sequential" in sections:
        rows, dom = sections["exec_sequential"]
        variants = sorted({r.variant for r in rows})
        md += ["## Executor: sequential process throughput", "",
               "256 small units (one ~50 ns tile each) per iteration. *chain*: each unit depends on the previous one "
               "(weft: process dependents; TBB: a flow graph of continue_nodes); *batch*: 256 independent units "
               "(weft: 256 schedules; TBB: task_group::run). ns per unit (Munits/s); ratios are row ÷ tbb.", ""]
        md += peer_table(variant_header(variants, ("ns/unit (Munits/s)", "vs tbb", "spread")), rows, variants,
                         per_unit_cells(rows, dom, "tbb", inverse=False),
                         lambda r: ["FAILED" if r is not None and r.errors else "—", "", ""])
    if "parallel_for" in sections:
        rows, dom = sections["parallel_for"]
        by = by_key(rows)
        md += ["## Executor: parallel-for of tiny tiles", "",
               "One dispatch = K tiles of ~50 ns (serial_loop shows it) across all of a peer's threads, done and "
               "seen by the caller; every tile is checked to run exactly once per dispatch. ns per dispatch: mean / "
               "p50 / p99. *CPU ns/dispatch* is the whole process's CPU time per dispatch (spinning included). "
               "TBB, OpenMP and condvar_pool run tiles on the caller too; weft's caller only waits (weft_executor: "
               "one worker per core, the caller blocked in FUTEX_WAIT; weft_executor_1w: one worker on CPU 1, the "
               "caller spinning on CPU 0). openmp_passive ran in a process of its own with OMP_WAIT_POLICY=passive.",
               ""]
        md += row_table(["row", "tiles", "mean / p50 / p99 ns", "vs serial (mean / p50)", "CPU ns/dispatch",
                         "threads", "probe ns, spread"], rows,
                        lambda r: [fmt_latency(r), fmt_vs(r, by.get(("serial_loop", r.variant)), dom),
                                   fmt_counter(r, "process_cpu_ns_per_op"), fmt_counter(r, "threads"),
                                   fmt_probe_spread(r)],
                        lead=peer_and_value, sort_key=by_number)
        peers = [p for p in ("serial_loop", "condvar_pool", "tbb_simple", "tbb_auto", "openmp_default",
                             "openmp_passive") if any(r.peer == p for r in rows)]
        md += [f"### Per-dispatch ratios, weft row ÷ peer (mean; < 1: weft is faster; placement {dom})", ""]
        body = []
        for weft in [w for w in WEFT_EXEC if any(r.peer == w for r in rows)]:
            for v in ("tiles:2", "tiles:16", "tiles:256"):
                cells = [weft, v.split(":")[-1]]
                for p in peers:
                    r, basis = ratio(rows, weft, p, v, dom, inverse=False)
                    cells.append("—" if r is None else fmt_ratio(r) + ("" if basis == dom else " †"))
                body.append(cells)
        md += table(["weft row", "tiles"] + peers, body) + [""]
    if "idle_cpu" in sections:
        rows, _ = sections["idle_cpu"]
        md += ["## Executor: CPU burned while idle", "",
               "After a burst of 500 parallel-for dispatches (16 tiles), the caller sleeps one second; this is the "
               "CPU time the whole process used in that second, in % of one core (median over repetitions, each "
               "row alone in its own process), split into the first 10 ms, the next 90 ms and the rest.", ""]

        def cells(r):
            pct = r.values("idle_cpu_pct")
            return [f"{statistics.median(pct):.2f}% (max {max(pct):.2f}%)",
                    f"{statistics.median(r.values('idle_cpu_pct_0_10ms')):.1f}%",
                    f"{statistics.median(r.values('idle_cpu_pct_10_100ms')):.1f}%",
                    f"{statistics.median(r.values('idle_cpu_pct_after_100ms')):.2f}%", str(len(pct))]
        md += row_table(["row", "1 s after the last dispatch", "first 10 ms", "10–100 ms", "after 100 ms",
                         "repetitions"], rows, cells)
    return md


# ----------------------------------------------------------------------------------------------
# Proactor (bench/proactor/)

IO_CAPABILITIES = ["kernel_ring", "single_issuer", "defer_taskrun", "kernel_file_io", "kernel_links", "nowait_reads",
                   "multishot_poll"]


def fmt_capabilities(row):
    v = row.values("capabilities")
    if not v:
        return "—"
    bits = int(statistics.median(v))
    return ", ".join(name for i, name in enumerate(IO_CAPABILITIES) if bits & (1 << i)) or "none"


def fmt_vs_keys(row, floor, dom, keys):
    """'a / b' ratios row ÷ floor for each counter in keys, matched on placement (< 1: row is lower)."""
    if not usable(row) or not usable(floor):
        return "—"
    parts, basis = [], dom
    for key in keys:
        a, b, basis = matched(row, floor, dom, key)
        parts.append("—" if a is None or not b else fmt_ratio(a / b))
    return " / ".join(parts) + ("" if basis == dom else " †")


def proactor_targets(sections, line):
    rows, dom = sections.get("io_nop", ([], None))
    for v in ("batch:1", "batch:32"):
        r, basis = ratio(rows, "weft_uring", "liburing", v, dom)
        epoll, _ = ratio(rows, "weft_epoll", "liburing", v, dom)
        line(None if r is None else r >= 0.9,
             f"NOP submit→complete throughput weft_uring ≥ 0.9× raw liburing ({v}): {fmt_ratio(r)}"
             + ("" if r is None else f" [{basis}]; weft_epoll {fmt_ratio(epoll)}"), "io_nop")
    rows, dom = sections.get("io_read4k", ([], None))
    by = by_key(rows)
    for v in ("qd:1", "qd:32"):
        peers = [p for p in ("pread", "liburing") if usable(by.get((p, v)))]
        if not usable(by.get(("weft_uring", v))) or not peers:
            line(None, f"4 KiB page-cached reads weft_uring ≥ 1.0× the better of pread and liburing ({v})")
            continue
        best = min(peers, key=lambda p: by[(p, v)].median())
        r, basis = ratio(rows, "weft_uring", best, v, dom)
        rest = "".join(f"; against {p}: {fmt_ratio(ratio(rows, 'weft_uring', p, v, dom)[0])}"
                       for p in peers if p != best)
        masked, _ = ratio(rows, "weft_uring_no_nowait", "liburing", v, dom)
        if masked is not None:
            rest += f"; weft_uring_no_nowait against liburing: {fmt_ratio(masked)}"
        line(r >= 1.0, f"4 KiB page-cached reads weft_uring ≥ 1.0× the better of pread and liburing ({v}): "
                       f"{fmt_ratio(r)} against {best} [{basis}]{rest}", "io_read")


def proactor_sections(sections):
    md = []
    if "io_nop" in sections:
        rows, dom = sections["io_nop"]
        variants = ("batch:1", "batch:32")
        md += ["## Proactor: NOP submit → complete throughput", "",
               "One thread (CPU 0) submits a batch of NOPs and polls until every completion is back; ns per NOP "
               "(Mops/s), median over repetitions. liburing: get_sqe + prep_nop per NOP, submit_and_wait(batch), "
               "for_each_cqe + cq_advance, on a SINGLE_ISSUER | DEFER_TASKRUN ring. weft: proactor::submit (one "
               "op, or a span of 32) then poll() until every callback ran. *vs liburing* is the throughput ratio "
               "(liburing ns ÷ row ns; > 1: the row is faster).", ""]
        md += peer_table(variant_header(variants, ("ns/op (Mops/s)", "vs liburing", "spread")), rows, variants,
                         per_unit_cells(rows, dom, "liburing", inverse=True), lambda r: [fmt_failed(r), "", ""])
    if "io_read4k" in sections:
        rows, dom = sections["io_read4k"]
        md += ["## Proactor: 4 KiB reads from the page cache", "",
               "A 64 MiB file read once beforehand (and again before every repetition), random aligned 4 KiB "
               "offsets from one fixed-seed sequence (the same blocks for every row), every block's stamp checked; "
               "one thread on CPU 0. ns per read and thousands of reads per second (median over repetitions). "
               "pread: a pread loop (no queue, so qd:1 and qd:32 are the same loop, measured twice). liburing: qd "
               "reads kept in flight, submit_and_wait(1), each CQE's slot refilled. weft: qd file_read_ops in "
               "flight, each callback resubmits its op; weft_uring_no_nowait masks nowait_reads (every read an "
               "io_uring READ). Ratios are throughput ratios (peer ns ÷ row ns; > 1: the row is faster).", ""]

        def cells(r):
            out = [fmt(r.median()), f"{1e6 / r.median():,.0f}"]
            for peer in ("pread", "liburing"):
                x, basis = ratio(rows, r.peer, peer, r.variant, dom)
                out.append("—" if x is None else fmt_ratio(x) + ("" if basis == dom else " †"))
            return out + [fmt_spread(r), fmt_capabilities(r)]
        md += row_table(["row", "qd", "ns/read", "Kreads/s", "vs pread", "vs liburing", "spread", "capabilities"],
                        rows, cells, lead=peer_and_value, sort_key=by_number)
    if "io_wake" in sections:
        rows, dom = sections["io_wake"]
        by = by_key(rows)
        md += ["## Proactor: cross-thread submit latency (poll thread blocked, no timeout)", "",
               "A producer on CPU 1 makes one call while the poll thread (CPU 0) is blocked in the kernel with no "
               "timeout (100 µs after the poll thread armed, so it is asleep); the sample runs from just before "
               "the call to the moment the poll thread sees it (weft: in the callback). ns: mean / p50 / p99, "
               "medians over repetitions. eventfd_epoll (write → epoll_wait) is the floor; eventfd_uring_poll is "
               "the same wake through a POLL_ADD on an io_uring. *_nop rows: the producer calls submit(nop); "
               "*_event rows: event::set() with an event_wait_op in flight. Ratios are row ÷ floor (< 1: faster).",
               ""]
        md += row_table(["row", "mean / p50 / p99 ns", "vs eventfd_epoll (mean / p50 / p99)",
                         "vs eventfd_uring_poll (mean / p50 / p99)", "probe ns, spread"], rows,
                        lambda r: [fmt_latency(r), fmt_vs_keys(r, by.get(("eventfd_epoll", r.variant)), dom,
                                                               ("value", "p50_ns", "p99_ns")),
                                   fmt_vs_keys(r, by.get(("eventfd_uring_poll", r.variant)), dom,
                                               ("value", "p50_ns", "p99_ns")),
                                   fmt_probe_spread(r)])
    if "io_timer" in sections:
        rows, dom = sections["io_timer"]
        by = by_key(rows)
        md += ["## Proactor: timer lateness", "",
               "One thread (CPU 0) arms one timer at a time, 100 µs or 1 ms ahead on CLOCK_MONOTONIC, blocks until "
               "it fires, and records (time seen − deadline); weft rows take the time in the callback. ns: mean / "
               "p50 / p99 lateness, medians over repetitions. clock_nanosleep (TIMER_ABSTIME) and an epoll_wait "
               "timeout are subject to the thread's timer slack (50 µs by default); a timerfd and an io_uring "
               "TIMEOUT are not. Ratios are row ÷ peer on p50 / p99 (< 1: the row is later by less).", ""]
        md += row_table(["row", "ahead", "lateness mean / p50 / p99 ns", "vs timerfd_epoll (p50 / p99)",
                         "vs liburing_timeout (p50 / p99)", "spread"], rows,
                        lambda r: [fmt_latency(r),
                                   fmt_vs_keys(r, by.get(("timerfd_epoll", r.variant)), dom, ("p50_ns", "p99_ns")),
                                   fmt_vs_keys(r, by.get(("liburing_timeout", r.variant)), dom, ("p50_ns", "p99_ns")),
                                   fmt_spread(r)],
                        lead=peer_and_value, sort_key=lambda c: 0 if c[1] == "100us" else 1)
    return md


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/default", help="CMake build directory holding bench/weft_bench")
    ap.add_argument("--out", default="bench/RESULTS.md")
    ap.add_argument("--repetitions", type=int, default=0, help="override every category's repetition count")
    ap.add_argument("--only", default="", help="comma-separated categories or groups to run: mpsc, mailbox, wake, "
                    "notify, exec_wake, exec_sequential, parallel_for, parallel_for_passive, idle_cpu, "
                    "idle_cpu_passive, io_nop, io_read, io_wake, io_timer; the group 'executor' is all of the "
                    "exec/parallel_for/idle_cpu ones, the group 'proactor' all of the io_ ones")
    ap.add_argument("--from-json", default="", help="re-render from the JSON files of an earlier run in this dir")
    args = ap.parse_args()

    json_dir = args.from_json or os.path.join(args.build, "bench")
    only = {c for c in args.only.split(",") if c}
    known = {c[0] for c in CATEGORIES} | {category_options(c)[1].get("group") for c in CATEGORIES} - {None}
    if only - known:
        raise SystemExit(f"bench_report: unknown --only {', '.join(sorted(only - known))}; "
                         f"choose from {', '.join(sorted(known))}")
    selected = [c for c in CATEGORIES
                if not only or c[0] in only or category_options(c)[1].get("group") in only]
    for target in sorted({category_options(c)[0] for c in selected}):
        binary = os.path.join(args.build, "bench", target)
        if not args.from_json and not os.access(binary, os.X_OK):
            raise SystemExit(f"bench_report: {binary} not found; build it first (make build, or "
                             f"cmake --build {args.build} --target {target})")

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    total_start = time.monotonic()
    results = {}
    times = {}
    for category in selected:
        name, pattern, reps = category[:3]
        target, options = category_options(category)
        binary = os.path.join(args.build, "bench", target)
        if args.from_json:
            path = os.path.join(json_dir, f"bench-{name}.json")
            try:
                with open(path) as f:
                    results[name] = json.load(f)
            except (OSError, ValueError):
                pass
            continue
        results[name], times[name] = run_category(binary, name, pattern, args.repetitions or reps, json_dir, options)
    total = time.monotonic() - total_start
    load_after = os.getloadavg()

    # family -> (rows, dominant placement)
    sections = {}
    context = None
    for name, data in results.items():
        context = context or data.get("context", {})
        rows = parse(data)
        families = {}
        for row in rows.values():
            families.setdefault(row.family, []).append(row)
        for family, frows in families.items():
            # A family may come from several categories (parallel_for and its OpenMP-passive process).
            frows = sections.get(family, ([], None))[0] + frows
            frows.sort(key=row_key)
            sections[family] = (frows, dominant_placement(frows))

    errors = [(r.name, e) for rows, _ in sections.values() for r in rows for e in r.errors]

    md = ["# weft benchmark results", "",
          f"Generated by `scripts/bench_report.py` (`make bench`) on {started:%Y-%m-%d %H:%M} UTC. Every figure "
          "below was measured by that run on this machine; compare rows only within this file. How to read it: "
          "`bench/README.md`.", ""]
    md += ["## Machine", "", "```"] + machine_section(args.build)
    if context:
        md.append(f"google benchmark: {context.get('library_build_type', '?')} library build "
                  "(Debian's package; the benchmarks themselves are -O2 -DNDEBUG)")
    if not args.from_json:
        md.append(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
        md.append("run time: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()) + f"; total {total:.0f} s")
    md += ["```", ""]

    md += ["## Placement", "",
           f"*probe* = cache-line round trip CPU0↔CPU1 between two pinned spinning threads, taken right before and "
           f"right after every repetition (ns). A repetition is *near* if both probes are ≤ {NEAR_MAX_NS:.0f} ns, "
           f"*far* if both are ≥ {FAR_MIN_NS:.0f} ns, *mid* in between, *mixed* if the two probes disagree. Probe "
           "columns give the median (min–max) of the before-probes of a row. Ratios use the repetitions of the "
           "run's dominant placement (named after each ratio in brackets) when both rows have some there; a † "
           "marks a ratio that had to fall back to all repetitions.", ""]
    all_probes = [x for rows, _ in sections.values() for r in rows for x in r.values("probe_before_ns") if x >= 0]
    if all_probes:
        md += [f"Over the whole run: probe median {statistics.median(all_probes):.0f} ns, range "
               f"{min(all_probes):.0f}–{max(all_probes):.0f} ns; dominant placement per table: "
               + ", ".join(f"{k}: {d}" for k, (_, d) in sections.items()) + ".", ""]

    verified = sum(x for rows, _ in sections.values() for r in rows for x in r.values("verified_items"))
    round_trips = sum(x for rows, _ in sections.values() for r in rows
                      if r.family == "wake_round_trip" for x in r.values("samples"))
    dispatches = sum(x for rows, _ in sections.values() for r in rows
                     if r.family.startswith("exec_") or r.family == "parallel_for" for x in r.values("samples"))
    exec_check = (f", and {dispatches:,.0f} timed executor-row dispatches each completed with every tile run "
                  "exactly once (chains in order)" if dispatches else "")
    io_ops = sum(x for rows, _ in sections.values() for r in rows if r.family.startswith("io_")
                 for x in r.values("checked_ops"))
    io_samples = sum(x for rows, _ in sections.values() for r in rows if r.family in ("io_wake", "io_timer")
                     for x in r.values("samples"))
    if io_ops or io_samples:
        exec_check += (f", and {io_ops:,.0f} proactor-row NOPs and reads each completed once with the right result "
                       f"(every read's block stamp checked), {io_samples:,.0f} timed wakes and timers each seen once, "
                       "no timer before its deadline")
    md += [f"Checks: {verified:,.0f} jobs and messages were handed over and each one verified to arrive exactly "
           f"once (in order where the structure promises it), and {round_trips:,.0f} timed wake round trips each "
           f"returned their own request number{exec_check}; {len(errors)} repetition(s) failed a check.", ""]
    if errors:
        md += ["## FAILED repetitions", ""] + [f"- `{n}`: {e}" for n, e in errors] + [""]

    md += ["## Targets", "",
           "Reported, never asserted. Throughput ratios are peer ns/item ÷ weft ns/item (> 1: weft is faster); "
           "latency ratios are weft ÷ peer (< 1: weft is faster).", ""]
    tlines, reasons = targets(sections)
    if only:
        # Targets of the categories this run did not select are not news.
        tlines = [t for t in tlines if not t.startswith("- **not measured**")]
    md += tlines + [""]
    if reasons:
        md += ["Why a target can be missed here (the mechanism; check it against the tables below):", ""]
        md += [f"- {WHY[r]}" for r in reasons] + [""]

    if "mpsc_handoff" in sections:
        rows, dom = sections["mpsc_handoff"]
        md += ["## MPSC handoff throughput", ""]
        md += throughput_section(
            "Rows", "P producers each hand over 32768 one-cache-line jobs per round to one consumer; every job is "
            "checked to arrive exactly once. Consumer pinned to CPU 0; producer 0 on CPU 1, producer 1 on CPU 0. "
            "Median over repetitions (all placements).", rows, dom)
        subjects = [s for s in WEFT_HANDOFF if any(r.peer == s for r in rows)]
        md += ratio_matrix(f"Throughput ratios (weft ÷ peer rate, placement {dom})", rows, subjects, PEER_HANDOFF,
                           dom, ["producers:1", "producers:2"])
    if "mpsc_chain" in sections:
        rows, dom = sections["mpsc_chain"]
        md += ["## Chain push", ""]
        md += throughput_section(
            "Rows", "Producers prepare batches of 64 jobs (stamp, then link or fill a pointer array) and publish each "
            "batch with one call: mpsc_slist::push_chain, mpsc_queue::push_chain, moodycamel enqueue_bulk with a "
            "producer token (consumer: try_dequeue_bulk with a consumer token), and a mutex+deque that appends "
            "the batch under one lock.", rows, dom)
        subjects = [s for s in ("weft_slist_push_chain", "weft_queue_push_chain") if any(r.peer == s for r in rows)]
        md += ratio_matrix(f"Throughput ratios (placement {dom})", rows, subjects,
                           ["moodycamel_enqueue_bulk", "mutex_deque_bulk"], dom, ["producers:1", "producers:2"])
    if "mailbox" in sections:
        rows, dom = sections["mailbox"]
        md += ["## Completion mailbox (bounded MPSC ring)", ""]
        md += throughput_section(
            "Rows", "16-byte messages by value through rings of 1024 slots; producers retry when full; the consumer "
            "checks every producer's sequence (no gap, no repeat, in order). spsc_queue is single-producer only.",
            rows, dom)
        md += ratio_matrix(f"Throughput ratios (placement {dom})", rows, ["weft_completion_mailbox"],
                           ["boost_lockfree_queue_fixed", "boost_spsc_queue"], dom, ["producers:1", "producers:2"])
    if "wake_round_trip" in sections:
        rows, dom = sections["wake_round_trip"]
        md += ["## Wake round trip (ping-pong, both sides block when idle)", "",
               "ns per round trip (= two wakeups). mean is the benchmark's real time per round trip; p50 and p99 "
               "come from timing every round trip; each is the median over repetitions. *CPU ns* is the benchmark "
               "thread's CPU time per round trip (spinning shows up here). cross_cpu: threads on CPU 0 and CPU 1; "
               "same_cpu: both on CPU 0. The rows that spin before they block (moodycamel_lwsem, std_atomic_wait, "
               "weft_spin_then_wait) are context: the target compares weft_event_count, which blocks at once, with "
               "the futex floor.", ""]
        by = by_key(rows)

        def cells(row, v):
            floor = by.get(("futex_raw", v))
            vs = "—"
            if floor is not None and floor.reps:  # unlike fmt_vs, a floor with some failed repetitions still counts
                fm = matched(row, floor, dom)
                p50 = matched(row, floor, dom, "p50_ns")
                vs = f"{fmt_ratio(fm[0] / fm[1])} / {fmt_ratio(p50[0] / p50[1])}" + ("" if fm[2] == dom else " †")
            return [fmt_latency(row), vs, fmt(row.median("cpu_ns")), fmt_probe_spread(row)]

        def label(peer):
            wakes = by.get((peer, "cross_cpu"))
            if wakes is None or not wakes.values("futex_wakes_per_round_trip"):
                return peer
            return f"{peer} ({statistics.median(wakes.values('futex_wakes_per_round_trip')):.2f} futex wakes/round trip)"
        md += peer_table(["primitive", "cross mean / p50 / p99", "cross vs futex (mean / p50)", "cross CPU ns",
                          "cross probe ns, spread", "same mean / p50 / p99", "same vs futex (mean / p50)",
                          "same CPU ns", "same probe ns, spread"], rows, ("cross_cpu", "same_cpu"), cells,
                         lambda row: ["FAILED" if row is not None and row.errors else "—", "—", "—", "—"], label)
    if "notify_no_waiter" in sections:
        rows, dom = sections["notify_no_waiter"]
        md += ["## Notify with no waiter", "",
               "ns per call when nobody waits (median over repetitions); futex calls per call as counted by the "
               "wrapping backend (only the counted row can count).", ""]
        raw = next((r for r in rows if r.peer == "futex_wake_raw"), None)
        body = []
        for r in rows:
            calls = r.values("futex_calls_per_op")
            counted = r.peer.startswith("weft_event_count_counted")
            body.append([r.peer, fmt(r.median()),
                         fmt_ratio(r.median() / raw.median()) if raw and raw.reps and r.reps else "—",
                         f"{max(calls):g}" if counted and calls else "not counted", fmt_spread(r)])
        md += table(["call", "ns/op", "vs a bare FUTEX_WAKE", "futex calls/op", "spread"], body) + [""]

    md += executor_sections(sections)
    md += proactor_sections(sections)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(md).rstrip() + "\n")
    print(f"bench_report: wrote {args.out}" + (f" in {total:.0f} s" if not args.from_json else ""), file=sys.stderr)
    if errors:
        print(f"bench_report: {len(errors)} repetition(s) failed their check; see {args.out}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
