#!/usr/bin/env python3
"""Side-by-side producer benchmark: actix-kafka perf against Kafka's own ProducerPerformance,
librdkafka's rdkafka_performance, aiokafka and franz-go, on one local broker, with the same
settings.

Run it through scripts/bench.sh (or `just bench`), which installs the clients first.

For every case (value size x partitions x acks/idempotence x compression) and round, each
client runs in turn, alone, on a fresh topic; the order of the clients rotates from round
to round. Each client is a child process whose user+sys CPU time and peak RSS come from
wait4(2), so they are the client's alone (the broker shares the machine). Every run is a
JSON line in .bench/results/<timestamp>.jsonl; docs/benchmarks.md and docs/benchmarks.svg
are then generated from that file: medians over rounds, ratios to ours.

Standard library only.
"""

import argparse
import datetime as dt
import glob
import json
import os
import platform
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.environ.get("BENCH_DIR", os.path.join(REPO, ".bench"))
KAFKA_SH = os.path.join(REPO, "scripts", "kafka.sh")
CLIENTS = ["ours", "java", "librdkafka", "aiokafka", "franz", "ours-before"]
CLIENT_LABELS = {
    "ours": "actix-kafka perf",
    # A second build of our CLI (OURS_BEFORE_BIN=path), for before/after runs of a change;
    # chosen only with --clients.
    "ours-before": "actix-kafka perf (before)",
    "java": "Java ProducerPerformance",
    "librdkafka": "librdkafka rdkafka_performance",
    "aiokafka": "aiokafka",
    "franz": "franz-go",
}
# The JVM flags of Kafka's bin/kafka-producer-perf-test.sh (KAFKA_HEAP_OPTS) and
# bin/kafka-run-class.sh (KAFKA_JVM_PERFORMANCE_OPTS), not kafka.sh's quick-start tool
# flags (C1 only, serial GC), which would handicap the Java client.
JAVA_OPTS = [
    "-Xmx512M", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
]
BUFFER_MEMORY = 33_554_432  # Java's default buffer.memory; ours takes the same property
MIB = 1024 * 1024

# Kafka's final perf-test line (ProducerPerformance, actix-kafka perf, bench_aiokafka.py).
KAFKA_LINE = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \((?P<mb>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th\."
)
# rdkafka_performance's summary line.
RDKAFKA_LINE = re.compile(
    r"% (?P<produced>\d+) messages produced \(\d+ bytes\), (?P<records>\d+) delivered "
    r"\(offset -?\d+, (?P<failed>\d+) failed\) in (?P<ms>\d+)ms: (?P<rate>\d+) msgs/s"
)


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- cases


class Case:
    """One benchmark setting, shared by every client."""

    def __init__(self, size, partitions, acks, compression):
        self.size = size
        self.partitions = partitions
        self.acks = acks  # "1", or "all" (always with idempotence)
        self.idempotent = acks == "all"
        self.compression = compression

    @property
    def name(self):
        acks = "acksall-idem" if self.idempotent else "acks1"
        return f"{self.size}B-p{self.partitions}-{acks}-{self.compression}"

    def describe(self):
        acks = "acks=all, idempotent" if self.idempotent else "acks=1, not idempotent"
        return f"{self.size} B values, {self.partitions} partition(s), {acks}, compression {self.compression}"


def csv(kind):
    def parse(text):
        return [kind(x) for x in text.split(",") if x]
    return parse


def build_cases(args):
    cases = [
        Case(size, partitions, acks, codec)
        for size in args.sizes
        for partitions in args.partitions
        for acks in args.acks
        for codec in args.compression
    ]
    if args.case:
        wanted = set(args.case)
        unknown = wanted - {c.name for c in cases}
        if unknown:
            sys.exit(f"bench: unknown case(s) {sorted(unknown)}; see --list")
        cases = [c for c in cases if c.name in wanted]
    return cases


# ---------------------------------------------------------------- clients


class Settings:
    """What every client is given besides the case."""

    def __init__(self, args):
        self.records = args.records
        self.batch_size = args.batch_size
        self.linger_ms = args.linger_ms
        self.bootstrap = args.bootstrap


def ours_binary():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    return os.path.join(target, "release", "actix-kafka")


def kafka_classpath():
    out = subprocess.run([KAFKA_SH, "classpath"], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def java_properties(case, s):
    return [
        f"bootstrap.servers={s.bootstrap}",
        f"acks={case.acks}",
        f"enable.idempotence={'true' if case.idempotent else 'false'}",
        f"compression.type={case.compression}",
        f"batch.size={s.batch_size}",
        f"linger.ms={s.linger_ms}",
        f"buffer.memory={BUFFER_MEMORY}",
    ]


def command_ours(case, s, topic, _scratch):
    return [ours_binary(), "perf", "--topic", topic, "--num-records", str(s.records),
            "--record-size", str(case.size), "--throughput", "-1",
            "--producer-props", *java_properties(case, s)]


def command_ours_before(case, s, topic, scratch):
    binary = os.environ.get("OURS_BEFORE_BIN")
    if not binary:
        sys.exit("bench.py: the ours-before client needs OURS_BEFORE_BIN=<path to an actix-kafka binary>")
    return [binary, *command_ours(case, s, topic, scratch)[1:]]


def command_java(case, s, topic, _scratch):
    return ["java", *JAVA_OPTS,
            "-Dlog4j2.configurationFile=" + os.path.join(REPO, "integration/kafka/log4j2-tools.xml"),
            "-cp", kafka_classpath(), "org.apache.kafka.tools.ProducerPerformance",
            "--topic", topic, "--num-records", str(s.records), "--record-size", str(case.size),
            "--throughput", "-1", "--command-property", *java_properties(case, s)]


def command_librdkafka(case, s, topic, scratch):
    # The same kind of value as the others: random upper-case letters, one value for
    # every record. In latency mode (-l) the tool writes "LATENCY:<microseconds>" over
    # the first ~24 bytes of each record and copies it (RD_KAFKA_MSG_F_COPY).
    rng = random.Random(case.size)
    payload = "".join(chr(rng.randrange(65, 91)) for _ in range(case.size))
    return [os.path.join(BENCH_DIR, "bin", "rdkafka_performance"), "-P", "-t", topic,
            "-b", s.bootstrap, "-s", str(case.size), "-c", str(s.records), "-m", payload,
            "-a", "-1" if case.idempotent else "1",
            "-X", f"enable.idempotence={'true' if case.idempotent else 'false'}",
            "-X", f"compression.codec={case.compression}",
            "-X", f"batch.size={s.batch_size}", "-X", f"linger.ms={s.linger_ms}",
            "-X", f"queue.buffering.max.kbytes={BUFFER_MEMORY // 1024}",
            "-l", "-A", os.path.join(scratch, "latencies.txt"), "-i", "5000"]


def command_aiokafka(case, s, topic, _scratch):
    cmd = [os.path.join(BENCH_DIR, "venv", "bin", "python"),
           os.path.join(REPO, "scripts", "bench_aiokafka.py"), "--topic", topic,
           "--num-records", str(s.records), "--record-size", str(case.size),
           "--bootstrap-server", s.bootstrap, "--acks", case.acks,
           "--compression", case.compression, "--batch-size", str(s.batch_size),
           "--linger-ms", str(s.linger_ms)]
    if case.idempotent:
        cmd.append("--idempotent")
    return cmd


def command_franz(case, s, topic, _scratch):
    cmd = [os.path.join(BENCH_DIR, "bin", "bench_franz"), "-topic", topic,
           "-num-records", str(s.records), "-record-size", str(case.size),
           "-bootstrap-server", s.bootstrap, "-acks", case.acks, "-compression", case.compression,
           "-batch-size", str(s.batch_size), "-linger-ms", str(s.linger_ms),
           "-buffer-memory", str(BUFFER_MEMORY)]
    if case.idempotent:
        cmd.append("-idempotent")
    return cmd


COMMANDS = {
    "ours": command_ours,
    "java": command_java,
    "librdkafka": command_librdkafka,
    "aiokafka": command_aiokafka,
    "franz": command_franz,
    "ours-before": command_ours_before,
}


def percentile_ms(sorted_values_us, fraction):
    index = min(int(len(sorted_values_us) * fraction), len(sorted_values_us) - 1)
    return sorted_values_us[index] // 1000


def parse_kafka_line(stdout):
    matches = list(KAFKA_LINE.finditer(stdout))
    if not matches:
        return None
    m = matches[-1]
    return {
        "records": int(m["records"]), "records_per_sec": float(m["rate"]),
        "avg_ms": float(m["avg"]), "max_ms": float(m["max"]), "p50_ms": int(m["p50"]),
        "p95_ms": int(m["p95"]), "p99_ms": int(m["p99"]), "p999_ms": int(m["p999"]),
    }


def parse_librdkafka(stdout, scratch):
    matches = list(RDKAFKA_LINE.finditer(stdout))
    if not matches:
        return None
    m = matches[-1]
    result = {"records": int(m["records"]), "records_per_sec": float(m["rate"])}
    if int(m["failed"]):
        result["failed"] = int(m["failed"])
    # Per-record latencies in microseconds, one a line (-l -A FILE).
    path = os.path.join(scratch, "latencies.txt")
    with open(path) as f:
        values = sorted(int(line) for line in f if line.strip())
    os.remove(path)
    if values:
        result.update({
            "avg_ms": sum(values) / len(values) / 1000, "max_ms": values[-1] / 1000,
            "p50_ms": percentile_ms(values, 0.5), "p95_ms": percentile_ms(values, 0.95),
            "p99_ms": percentile_ms(values, 0.99), "p999_ms": percentile_ms(values, 0.999),
        })
    return result


# ---------------------------------------------------------------- running


def vm_hwm_kib(pid):
    """The peak resident set (VmHWM) of a running process, in KiB, or 0."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_measured(cmd, stdout_path, stderr_path, timeout):
    """Runs cmd as a child. Returns its exit status, its rusage (user and system CPU of
    that child alone, from wait4), the wall time, its peak RSS in KiB, and whether it was
    killed for running past `timeout` seconds.

    The peak RSS is the largest VmHWM seen while polling /proc every 20 ms: rusage's
    ru_maxrss cannot be used, because Linux carries the RSS high-water mark of the
    forking process (this Python) over the fork and exec into the child's."""
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=REPO)
        deadline = started + timeout
        killed = False
        peak_kib = 0
        while True:
            peak_kib = max(peak_kib, vm_hwm_kib(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if not killed and time.monotonic() > deadline:
                log(f"timed out after {timeout}s: killing pid {proc.pid}")
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.02)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
        return proc.returncode, usage, wall, peak_kib, killed


def create_topic(name, partitions, bootstrap):
    env = {**os.environ, "BOOTSTRAP": bootstrap}
    out = subprocess.run([KAFKA_SH, "topic-create", name, str(partitions)],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"cannot create topic {name}: {out.stderr.strip()[-500:]}")


def delete_topics(pattern, bootstrap):
    env = {**os.environ, "BOOTSTRAP": bootstrap}
    subprocess.run([KAFKA_SH, "run-class", "org.apache.kafka.tools.TopicCommand",
                    "--bootstrap-server", bootstrap, "--delete", "--if-exists", "--topic", pattern],
                   capture_output=True, text=True, env=env)


def run_one(client, case, settings, round_no, order, run_id, scratch, timeout):
    topic = f"bench-{run_id}-{case.name}-r{round_no}-{client}"
    create_topic(topic, case.partitions, settings.bootstrap)
    time.sleep(1.0)  # let the new partitions' leaders settle; the broker catches its breath
    cmd = COMMANDS[client](case, settings, topic, scratch)
    stdout_path = os.path.join(scratch, "stdout.txt")
    stderr_path = os.path.join(scratch, "stderr.txt")
    load_before = os.getloadavg()[0]
    code, usage, wall, peak_kib, killed = run_measured(cmd, stdout_path, stderr_path, timeout)
    with open(stdout_path, errors="replace") as f:
        stdout = f.read()
    with open(stderr_path, errors="replace") as f:
        stderr = f.read()
    row = {
        "type": "run", "case": case.name, "size": case.size, "partitions": case.partitions,
        "acks": case.acks, "idempotent": case.idempotent, "compression": case.compression,
        "client": client, "round": round_no, "order": order, "topic": topic,
        "records_expected": settings.records, "exit": code, "wall_s": round(wall, 3),
        "user_s": round(usage.ru_utime, 3), "sys_s": round(usage.ru_stime, 3),
        "max_rss_kib": peak_kib, "loadavg_1m_before": round(load_before, 2),
    }
    try:
        parsed = parse_librdkafka(stdout, scratch) if client == "librdkafka" else parse_kafka_line(stdout)
    except OSError as e:
        parsed = None
        stderr += f"\n{e}"
    problems = []
    if killed:
        problems.append("timed out")
    if code != 0:
        problems.append(f"exit status {code}")
    if parsed is None:
        problems.append("no final line")
    else:
        row.update(parsed)
        row["mb_per_sec"] = round(parsed["records_per_sec"] * case.size / MIB, 3)
        if parsed["records"] != settings.records:
            problems.append(f"{parsed['records']} of {settings.records} records acknowledged")
    cpu = usage.ru_utime + usage.ru_stime
    row["cpu_s_per_million"] = round(cpu / settings.records * 1e6, 3)
    row["ok"] = not problems
    if problems:
        tail = (stderr.strip().splitlines() or stdout.strip().splitlines() or [""])[-5:]
        row["error"] = "; ".join(problems) + " | " + " / ".join(tail)
    return row


# ---------------------------------------------------------------- environment


def first_line(cmd, stream="stdout"):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout if stream == "stdout" else out.stderr).strip()
    return text.splitlines()[0] if text else None


def machine_info():
    model = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = None
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "nproc": os.cpu_count(), "cpu_model": model,
        "ram_gib": round(mem_kib / MIB, 1) if mem_kib else None,
        "kernel": platform.release(), "os": first_line(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]),
    }


def versions(clients):
    v = {
        "rustc": first_line(["rustc", "--version"]),
        "python": platform.python_version(),
        "actix_kafka_commit": first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]),
    }
    libs = kafka_classpath().rstrip("*")
    jars = sorted(glob.glob(os.path.join(libs, "kafka-clients-*.jar")))
    if jars:
        v["kafka"] = os.path.basename(jars[-1])[len("kafka-clients-"):-len(".jar")]
    v["java"] = first_line(["java", "-version"], "stderr")
    if "librdkafka" in clients:
        usage = subprocess.run([os.path.join(BENCH_DIR, "bin", "rdkafka_performance"), "-h"],
                               capture_output=True, text=True).stderr
        m = re.search(r"librdkafka version (\S+)", usage)
        v["librdkafka"] = m.group(1) if m else None
        try:
            with open(os.path.join(BENCH_DIR, "bin", "rdkafka_performance.version")) as f:
                v["librdkafka_source"] = f.read().strip()
        except OSError:
            pass
    if "aiokafka" in clients:
        v["aiokafka"] = first_line([os.path.join(BENCH_DIR, "venv", "bin", "python"), "-c",
                                    "import aiokafka; print(aiokafka.__version__)"])
        v["venv_python"] = first_line([os.path.join(BENCH_DIR, "venv", "bin", "python"), "-c",
                                       "import platform; print(platform.python_version())"])
    if "franz" in clients:
        with open(os.path.join(REPO, "scripts", "bench_franz", "go.mod")) as f:
            m = re.search(r"github.com/twmb/franz-go (v\S+)", f.read())
        v["franz_go"] = m.group(1) if m else None
        v["go"] = first_line(["go", "version"])
    return v


def example_command(client, case, settings):
    """The client's command line for `case`, shortened for the report."""
    classpath = kafka_classpath()
    words = []
    for word in COMMANDS[client](case, settings, "TOPIC", ".bench/tmp/RUN"):
        if word == classpath:
            words.append('"$(scripts/kafka.sh classpath)"')
            continue
        if len(word) == case.size and word.isalpha() and word.isupper():
            words.append(f"<{case.size} random A-Z letters>")
            continue
        words.append(shlex.quote(word.replace(REPO + "/", "")))
    return " ".join(words)


def ensure_broker(bootstrap):
    if subprocess.run([KAFKA_SH, "answers", bootstrap]).returncode == 0:
        return False
    if bootstrap != "127.0.0.1:9092":
        sys.exit(f"bench: nothing answers on {bootstrap}")
    log("no broker on 127.0.0.1:9092: starting one with scripts/kafka.sh up")
    subprocess.run([KAFKA_SH, "up"], check=True)
    return True


# ---------------------------------------------------------------- report


def medians(rows):
    """{(case, client): {metric: median}} over the successful rounds."""
    metrics = ["records_per_sec", "mb_per_sec", "avg_ms", "p50_ms", "p99_ms", "p999_ms",
               "cpu_s_per_million", "max_rss_kib", "wall_s"]
    groups = {}
    for r in rows:
        if r.get("type") == "run" and r.get("ok"):
            groups.setdefault((r["case"], r["client"]), []).append(r)
    out = {}
    for key, group in groups.items():
        out[key] = {m: statistics.median(g[m] for g in group) for m in metrics if all(m in g for g in group)}
        out[key]["rounds"] = len(group)
    return out


def fmt_int(x):
    return f"{x:,.0f}"


def fmt_ratio(value, ours):
    if ours in (None, 0) or value is None:
        return "–"
    return f"{value / ours:.2f}"


def fmt_ms(x):
    return f"{x:g}" if isinstance(x, int) or float(x).is_integer() else f"{x:.1f}"


def svg_chart(case_names, clients, med):
    """Two panels of horizontal grouped bars: records/s and CPU s per million records."""
    colours = {"ours": "#1f77b4", "java": "#ff7f0e", "librdkafka": "#2ca02c", "aiokafka": "#9467bd",
               "franz": "#8c564b", "ours-before": "#7f7f7f"}
    panels = [("Throughput (records/s, median; longer is better)", "records_per_sec", fmt_int),
              ("Client CPU (user+sys s per 1M records, median; shorter is better)", "cpu_s_per_million",
               lambda x: f"{x:.2f}")]
    bar, gap, label_w, panel_w, top = 14, 12, 190, 330, 60
    group_h = bar * len(clients) + gap
    height = top + group_h * len(case_names) + 20
    width = label_w + 2 * (panel_w + 90) + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    x = 10
    for client in clients:  # legend
        parts.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{colours[client]}"/>')
        parts.append(f'<text x="{x + 16}" y="18">{CLIENT_LABELS[client]}</text>')
        x += 30 + 7 * len(CLIENT_LABELS[client])
    for p, (title, metric, fmt) in enumerate(panels):
        x0 = label_w + p * (panel_w + 90)
        values = [med[(c, cl)][metric] for c in case_names for cl in clients if (c, cl) in med]
        top_value = max(values) if values else 1
        parts.append(f'<text x="{x0}" y="{top - 12}" font-weight="bold">{title}</text>')
        parts.append(f'<line x1="{x0}" y1="{top - 4}" x2="{x0}" y2="{height - 16}" stroke="#444"/>')
        for i, case in enumerate(case_names):
            y = top + i * group_h
            if p == 0:
                parts.append(f'<text x="{label_w - 8}" y="{y + group_h / 2}" text-anchor="end">{case}</text>')
            for j, client in enumerate(clients):
                m = med.get((case, client))
                yb = y + j * bar
                if not m or metric not in m:
                    parts.append(f'<text x="{x0 + 4}" y="{yb + bar - 3}" fill="#888">not measured</text>')
                    continue
                w = max(1.0, panel_w * m[metric] / top_value)
                parts.append(f'<rect x="{x0}" y="{yb}" width="{w:.1f}" height="{bar - 2}" '
                             f'fill="{colours[client]}"/>')
                parts.append(f'<text x="{x0 + w + 4:.1f}" y="{yb + bar - 4}">{fmt(m[metric])}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_report(results_path, doc_path):
    with open(results_path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    meta = next((r for r in rows if r.get("type") == "meta"), None)
    if meta is None:
        sys.exit(f"bench: {results_path} has no meta line")
    end = next((r for r in rows if r.get("type") == "end"), None)
    runs = [r for r in rows if r.get("type") == "run"]
    med = medians(rows)
    clients = [c for c in meta["clients"] if any(r["client"] == c for r in runs)]
    case_names = [c for c in meta["cases"] if any(r["case"] == c for r in runs)]
    s = meta["settings"]
    m = meta["machine"]
    v = meta["versions"]
    svg_path = os.path.splitext(doc_path)[0] + ".svg"
    os.makedirs(os.path.dirname(os.path.abspath(doc_path)), exist_ok=True)
    with open(svg_path, "w") as f:
        f.write(svg_chart(case_names, clients, med))
    rel_results = os.path.relpath(results_path, REPO)

    out = []
    w = out.append
    w("# Benchmarks: actix-kafka against the Java client, librdkafka, aiokafka and franz-go")
    w("")
    w(f"<!-- Generated by scripts/bench.py from {rel_results}; do not edit by hand. "
      f"Regenerate: scripts/bench.py --report {rel_results} -->")
    w("")
    w(f"Run `{meta['run_id']}`, started {meta['started']}"
      + (f", took {end['wall_s'] / 60:.0f} min" if end else " (did not finish)") + ".")
    w("")
    w("**Read these numbers with care.** The machine has "
      f"**{m['nproc']} cores, shared between the Kafka broker (a JVM on the same machine) and the "
      "client under test**, and other work (builds and test suites of other engineers) ran on it "
      "at the same time. Every client ran alone against the broker, in turn, in rotating order, "
      "and the tables give medians over the rounds, but single numbers can still be off by tens of "
      "percent. CPU per record is the steadier measure: it counts only the client process's own "
      "user+sys time.")
    w("")
    w("## Machine")
    w("")
    w(f"- {m['nproc']} cores: {m['cpu_model']}")
    w(f"- {m['ram_gib']} GiB RAM; kernel {m['kernel']}; {m.get('os')}")
    w("- One Kafka broker (KRaft, single node, `scripts/kafka.sh up`, heap 256-768 MiB) on "
      "127.0.0.1:9092 on the same machine")
    w("")
    w("## Versions")
    w("")
    w(f"- Apache Kafka broker and Java client (kafka-clients, kafka-tools): {v.get('kafka')}; "
      f"{v.get('java')}")
    w(f"- actix-kafka at commit {v.get('actix_kafka_commit')}, {v.get('rustc')}, release profile")
    if "librdkafka" in clients:
        w(f"- librdkafka {v.get('librdkafka')} (`examples/rdkafka_performance`, built by "
          f"scripts/bench.sh from the sources bundled in the {v.get('librdkafka_source')} crates "
          "with librdkafka's own `./configure && make`, -O2)")
    if "aiokafka" in clients:
        w(f"- aiokafka {v.get('aiokafka')} from PyPI (cramjam for lz4/zstd) on Python "
          f"{v.get('venv_python')}")
    if "franz" in clients:
        w(f"- franz-go {v.get('franz_go')} (kgo), driven by `scripts/bench_franz` (written for "
          f"this harness, same final line as Kafka's tool), built with {v.get('go')}")
    w("")
    w("## Command")
    w("")
    w("```sh")
    w(meta["command"])
    w("```")
    w("")
    w("Each client's command line (for the first case; TOPIC is a fresh topic per run):")
    w("")
    w("```sh")
    for client, cmd in meta["example_commands"].items():
        w(f"# {CLIENT_LABELS[client]}")
        w(cmd)
    w("```")
    w("")
    w("## Settings, the same for every client")
    w("")
    w("| setting | value |")
    w("|---|---|")
    w(f"| records per run | {s['records']:,} keyless records, unthrottled (`--throughput -1`) |")
    w(f"| rounds | {s['rounds']} (clients alternate: the order rotates by one each round) |")
    w(f"| batch size | `batch.size={s['batch_size']}` (aiokafka `max_batch_size`, franz-go "
      "`ProducerBatchMaxBytes`) |")
    w(f"| linger | `linger.ms={s['linger_ms']}` (aiokafka `linger_ms`, franz-go `ProducerLinger`) |")
    if (s["batch_size"], s["linger_ms"]) == (65536, 5):
        w("| why these | 5 ms is the default linger of the Java producer since Kafka 4.0 and of "
          "librdkafka; 64 KiB batches hold 64 records of 1 KiB (Java's default 16 KiB would hold 16) |")
    w(f"| buffer | `buffer.memory={BUFFER_MEMORY}` (librdkafka `queue.buffering.max.kbytes="
      f"{BUFFER_MEMORY // 1024}`, franz-go `MaxBufferedBytes`; aiokafka has no such limit: one "
      "open batch per partition) |")
    w("| acks | `acks=1` with `enable.idempotence=false`, or `acks=all` with "
      "`enable.idempotence=true` |")
    w("| topic | a new topic per client and round, replication factor 1, deleted after the case |")
    w("")
    w("Everything else is each client's default. How they differ where it matters:")
    w("")
    w("- **Partitioning of keyless records**: ours and Java stick to one partition per batch "
      "(Java's built-in partitioner); librdkafka (`sticky.partitioning.linger.ms`) and franz-go "
      "(`StickyKeyPartitioner`) are sticky too; aiokafka's default partitioner picks a random "
      "partition for every record.")
    w("- **In flight**: ours and aiokafka send one batch per partition at a time; Java up to 5 "
      "requests per connection; librdkafka up to 1,000,000 (5 with idempotence); franz-go 1 "
      "produce request per broker without idempotence and 5 with it (its defaults).")
    w("- **Values**: random upper-case letters generated once and reused for every record "
      "(Java's tool and ours do this, and so do the aiokafka and franz-go drivers); "
      "rdkafka_performance gets such a value with `-m`, and its "
      "latency mode writes a send timestamp over the first ~24 bytes of each record.")
    w("- **Latency**: from the send call to the delivery callback/future, as each tool measures "
      "it; percentiles in whole milliseconds (truncated, Kafka's convention). Java, ours, "
      "aiokafka and franz-go print them; for librdkafka they are computed from the per-record latencies that "
      "`rdkafka_performance -l -A FILE` writes (its callbacks run when the tool polls, every "
      "1,000 records).")
    if "librdkafka" in clients and any(r["idempotent"] for r in runs):
        w("- **librdkafka with idempotence** sends nothing until it has its producer id, which took "
          "about half a second here (librdkafka 2.12.1; seen in the per-record latencies by "
          "position while this harness was written): the records queued meanwhile, up to its "
          "default `queue.buffering.max.messages=100000`, all wait that long, which sets its p99 "
          "in those cases.")
    w("- **Throughput**: acknowledged records over the time from the first send to the last "
      "acknowledgement, as each tool prints it; MB/s = records/s × value size / 2^20 for all.")
    w("- **CPU and memory**: user+sys CPU seconds of the client process alone (`wait4(2)` on "
      "the child) and its peak RSS (the largest `VmHWM` in `/proc/PID/status`, polled every "
      "20 ms), for the whole process lifetime, so they include start-up: for "
      "the JVM that is class loading and JIT compilation (a 10-record run of ProducerPerformance "
      "took 1.3 CPU-seconds on this machine), for aiokafka "
      "the interpreter. The JVM runs with the flags of Kafka's `kafka-producer-perf-test.sh` "
      f"(`{' '.join(JAVA_OPTS)}`).")
    w("")
    w("## Results")
    w("")
    w("Medians over the successful rounds, each metric's median taken on its own. Ratios are "
      "the client's median divided by ours "
      "(ours = 1.00): above 1 means more records/s, or more latency, CPU or memory, than ours.")
    w("")
    w("![records/s and CPU per million records, per client and case](" +
      os.path.basename(svg_path) + ")")
    w("")
    failed = [r for r in runs if not r.get("ok")]
    for case in case_names:
        c = next(r for r in runs if r["case"] == case)
        w(f"### {case}")
        w("")
        w(Case(c["size"], c["partitions"], c["acks"], c["compression"]).describe() + ".")
        w("")
        w("| client | records/s | × ours | MB/s | p50 ms | p99 ms | × ours | p99.9 ms | "
          "CPU s / 1M rec | × ours | peak RSS MiB | rounds |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        ours = med.get((case, "ours"), {})
        for client in clients:
            mm = med.get((case, client))
            if not mm:
                w(f"| {CLIENT_LABELS[client]} | failed | | | | | | | | | | 0 |")
                continue
            w(f"| {CLIENT_LABELS[client]} | {fmt_int(mm['records_per_sec'])} | "
              f"{fmt_ratio(mm['records_per_sec'], ours.get('records_per_sec'))} | "
              f"{mm['mb_per_sec']:.1f} | {fmt_ms(mm['p50_ms'])} | {fmt_ms(mm['p99_ms'])} | "
              f"{fmt_ratio(mm['p99_ms'], ours.get('p99_ms'))} | {fmt_ms(mm['p999_ms'])} | "
              f"{mm['cpu_s_per_million']:.2f} | "
              f"{fmt_ratio(mm['cpu_s_per_million'], ours.get('cpu_s_per_million'))} | "
              f"{mm['max_rss_kib'] / 1024:.0f} | {mm['rounds']} |")
        w("")
    if failed:
        w("## Failed runs")
        w("")
        w("Left out of the medians:")
        w("")
        for r in failed:
            w(f"- {r['case']}, {CLIENT_LABELS[r['client']]}, round {r['round']}: "
              f"{r.get('error', '?')[:300]}")
        w("")
    w("## Every run")
    w("")
    w(f"The raw rows (one JSON object per run) are in `{rel_results}` on the machine that ran "
      "them; per run, records/s by round:")
    w("")
    w("| case | client | " + " | ".join(f"round {i}" for i in range(1, s["rounds"] + 1)) + " |")
    w("|---|---|" + "---:|" * s["rounds"])
    for case in case_names:
        for client in clients:
            cells = []
            for i in range(1, s["rounds"] + 1):
                r = next((r for r in runs if r["case"] == case and r["client"] == client
                          and r["round"] == i), None)
                if r is None:
                    cells.append("")
                elif not r.get("ok"):
                    cells.append("failed")
                else:
                    cells.append(f"{fmt_int(r['records_per_sec'])} ({r['order']}.)")
            w(f"| {case} | {CLIENT_LABELS[client]} | " + " | ".join(cells) + " |")
    w("")
    w("(n.) is the client's place in that round's order.")
    w("")
    w("## Reproduce")
    w("")
    w("`just bench` (every case and client, 1,000,000 records, 3 rounds), `just bench --quick` "
      "(200,000 records, 1 round), or `scripts/bench.sh --help` for choosing cases and clients. "
      "The script installs every client itself (see `scripts/bench.sh`) and starts the broker "
      "with `scripts/kafka.sh up` when none answers on 127.0.0.1:9092. The hot path's "
      "criterion micro-benchmarks (record append, batch close per codec, Produce request "
      "encoding, the partition actor hop) are separate: "
      "`cargo bench -p kafka-wire -p actix-kafka -- --quick`.")
    with open(doc_path, "w") as f:
        f.write("\n".join(out) + "\n")
    log(f"wrote {os.path.relpath(doc_path, REPO)} and {os.path.relpath(svg_path, REPO)}")


# ---------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/bench.sh",
        description="Side-by-side producer benchmark on the local broker; see docs/benchmarks.md.")
    p.add_argument("--quick", action="store_true",
                   help="200,000 records and 1 round (unless --records/--rounds say otherwise)")
    p.add_argument("--records", type=int, help="records per run (1,000,000; --quick 200,000)")
    p.add_argument("--rounds", type=int, help="rounds (3; --quick 1)")
    p.add_argument("--clients", type=csv(str), default=[c for c in CLIENTS if c != "ours-before"],
                   help="comma-separated, from " + ",".join(CLIENTS) + " (all)")
    p.add_argument("--sizes", type=csv(int), default=[100, 1024], help="value sizes in bytes (100,1024)")
    p.add_argument("--partitions", type=csv(int), default=[1, 8], help="partition counts (1,8)")
    p.add_argument("--acks", type=csv(str), default=["1", "all"],
                   help="1 and/or all; all means acks=all with idempotence (1,all)")
    p.add_argument("--compression", type=csv(str), default=["none", "lz4", "zstd"],
                   help="codecs (none,lz4,zstd)")
    p.add_argument("--case", action="append",
                   help="only this case, e.g. 100B-p8-acks1-none (repeatable; see --list)")
    p.add_argument("--batch-size", type=int, default=65536, help="batch.size for every client (65536)")
    p.add_argument("--linger-ms", type=int, default=5, help="linger.ms for every client (5)")
    p.add_argument("--bootstrap", default="127.0.0.1:9092", help="the broker (127.0.0.1:9092)")
    p.add_argument("--timeout", type=int, help="seconds before a run is killed (120 + records/5000)")
    p.add_argument("--doc", default=os.path.join(REPO, "docs", "benchmarks.md"),
                   help="report to write (docs/benchmarks.md; the plot goes next to it as .svg)")
    p.add_argument("--no-doc", action="store_true", help="only write the results file")
    p.add_argument("--report", metavar="RESULTS",
                   help="run nothing: regenerate the report from a results .jsonl file")
    p.add_argument("--list", action="store_true", help="print the selected cases and exit")
    args = p.parse_args(argv)
    args.records = args.records or (200_000 if args.quick else 1_000_000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    unknown = set(args.clients) - set(CLIENTS)
    if unknown:
        p.error(f"unknown client(s) {sorted(unknown)}")
    if set(args.acks) - {"1", "all"}:
        p.error("--acks takes 1 and/or all")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.report:
        write_report(os.path.abspath(args.report), args.doc)
        return 0
    cases = build_cases(args)
    if args.list:
        for case in cases:
            print(case.name)
        return 0
    if not cases:
        sys.exit("bench: no case selected")
    subprocess.run([os.path.join(REPO, "scripts", "bench.sh"), "install", *args.clients], check=True)
    started_broker = ensure_broker(args.bootstrap)
    try:
        return run_all(args, argv, cases)
    finally:
        if started_broker:
            log("stopping the broker this run started (scripts/kafka.sh down)")
            subprocess.run([KAFKA_SH, "down"])


def run_all(args, argv, cases):
    """Runs every case, round and client; writes the results file and the report."""
    settings = Settings(args)
    timeout = args.timeout or 120 + args.records // 5000
    run_id = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    results_dir = os.path.join(BENCH_DIR, "results")
    scratch = os.path.join(BENCH_DIR, "tmp", run_id)
    os.makedirs(results_dir, exist_ok=True)
    os.makedirs(scratch, exist_ok=True)
    results_path = os.path.join(results_dir, f"{run_id}.jsonl")
    example = cases[0]
    meta = {
        "type": "meta", "run_id": run_id, "started": dt.datetime.now().isoformat(timespec="seconds"),
        "command": "scripts/bench.sh " + shlex.join(argv) if argv else "scripts/bench.sh",
        "clients": args.clients, "cases": [c.name for c in cases],
        "settings": {"records": args.records, "rounds": args.rounds, "batch_size": args.batch_size,
                     "linger_ms": args.linger_ms, "buffer_memory": BUFFER_MEMORY,
                     "bootstrap": args.bootstrap},
        "machine": machine_info(), "versions": versions(args.clients),
        "example_commands": {c: example_command(c, example, settings) for c in args.clients},
    }
    total = len(cases) * args.rounds * len(args.clients)
    log(f"{total} runs: {len(cases)} case(s) x {args.rounds} round(s) x {len(args.clients)} client(s), "
        f"{args.records:,} records each; results in {os.path.relpath(results_path, REPO)}")
    began = time.monotonic()
    done = 0
    with open(results_path, "w") as results:
        results.write(json.dumps(meta) + "\n")
        results.flush()
        for case in cases:
            for round_no in range(1, args.rounds + 1):
                shift = (round_no - 1) % len(args.clients)
                order = args.clients[shift:] + args.clients[:shift]
                for place, client in enumerate(order, 1):
                    row = run_one(client, case, settings, round_no, place, run_id, scratch, timeout)
                    results.write(json.dumps(row) + "\n")
                    results.flush()
                    done += 1
                    status = (f"{row['records_per_sec']:,.0f} rec/s, p99 {row['p99_ms']} ms, "
                              f"{row['cpu_s_per_million']:.2f} CPU s/1M" if row["ok"]
                              else f"FAILED: {row['error'][:200]}")
                    log(f"[{done}/{total}] {case.name} round {round_no} {client}: {status}")
            delete_topics(f"bench-{run_id}-{case.name}-.*", args.bootstrap)
        results.write(json.dumps({"type": "end", "wall_s": round(time.monotonic() - began, 1)}) + "\n")
    log(f"done in {(time.monotonic() - began) / 60:.1f} min")
    if not args.no_doc:
        write_report(results_path, args.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
