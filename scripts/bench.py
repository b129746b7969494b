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

`--security sasl_ssl_scram512` runs the cases over TLS instead, against the secured node of
`scripts/kafka.sh secure-up` (its SASL_SSL listener, SCRAM-SHA-512): ours, Java and an
SSL build of rdkafka_performance, each verifying the broker's certificate and name with
the project's CA. Those results go into their own section of docs/benchmarks.md (between
the TLS markers), which a plaintext report keeps as it is, and the other way round.

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
# The secured runs. Each mode names the secured node's listener and the client config that
# scripts/kafka.sh secure-up writes for it (ours and Java read that file; librdkafka gets
# the same settings as -X properties); topics are created on the admin listener.
SECURITY_MODES = {
    "sasl_ssl_scram512": {
        "title": "SASL_SSL / SCRAM-SHA-512",
        "bootstrap": "127.0.0.1:9307",
        "client_config": "client-sasl-ssl-scram512.properties",
    },
}
SECURE_ADMIN_BOOTSTRAP = "127.0.0.1:9301"
# The cases of issue 10, and their default records per run (a 2-core machine: bounded).
TLS_CASES = ["100B-p8-acks1-none", "1024B-p8-acksall-idem-zstd"]
TLS_RECORDS_BY_SIZE = {100: 500_000, 1024: 200_000}
TLS_BEGIN = "<!-- bench.py: TLS section begins; generated, do not edit by hand -->"
TLS_END = "<!-- bench.py: TLS section ends -->"

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


def read_properties(path):
    """A Java .properties file as a dict: `key=value` lines, `#`/`!` comments. Enough for
    the files scripts/kafka.sh writes (no escapes, no continuation lines)."""
    props = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#!":
                continue
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


class Security:
    """How every client reaches the secured node: the same listener, mechanism, user and
    CA for all, taken from the client config scripts/kafka.sh writes."""

    def __init__(self, mode, state_dir):
        spec = SECURITY_MODES[mode]
        clients = os.path.join(state_dir, "secure", "clients")
        self.mode = mode
        self.title = spec["title"]
        self.bootstrap = spec["bootstrap"]
        self.client_config = os.path.join(clients, spec["client_config"])
        self.admin_config = os.path.join(clients, "admin.properties")
        self.admin_bootstrap = SECURE_ADMIN_BOOTSTRAP
        try:
            props = read_properties(self.client_config)
        except OSError as e:
            sys.exit(f"bench: cannot read {self.client_config} ({e.strerror}): start the secured "
                     "node with `scripts/kafka.sh secure-up`, and set ACTIX_KAFKA_STATE (or "
                     "--kafka-state) to the state directory it runs from")
        jaas = props.get("sasl.jaas.config", "")
        user = re.search(r'username="([^"]*)"', jaas)
        password = re.search(r'password="([^"]*)"', jaas)
        if not (user and password and props.get("ssl.truststore.type") == "PEM"):
            sys.exit(f"bench: {self.client_config} has no SCRAM username/password or PEM truststore")
        self.protocol = props["security.protocol"]
        self.mechanism = props["sasl.mechanism"]
        self.username = user.group(1)
        self.password = password.group(1)
        self.ca_file = props["ssl.truststore.location"]

    def librdkafka_args(self):
        # librdkafka's names for the same settings; ssl.endpoint.identification.algorithm
        # is `https` by default (librdkafka >= 2.0), as in Java and ours.
        return ["-X", f"security.protocol={self.protocol}",
                "-X", f"sasl.mechanisms={self.mechanism}",
                "-X", f"sasl.username={self.username}", "-X", f"sasl.password={self.password}",
                "-X", f"ssl.ca.location={self.ca_file}"]


class Settings:
    """What every client is given besides the case."""

    def __init__(self, args):
        self.records = args.records
        self.records_by_size = args.records_by_size
        self.batch_size = args.batch_size
        self.linger_ms = args.linger_ms
        self.bootstrap = args.bootstrap
        self.security = args.security_config

    def records_for(self, case):
        return self.records_by_size.get(case.size, self.records)


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


def security_config_args(s):
    # ours and Java read the very same client config file (Java's property names).
    return ["--command-config", s.security.client_config] if s.security else []


def command_ours(case, s, topic, _scratch):
    return [ours_binary(), "perf", "--topic", topic, "--num-records", str(s.records_for(case)),
            "--record-size", str(case.size), "--throughput", "-1", *security_config_args(s),
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
            "--topic", topic, "--num-records", str(s.records_for(case)), "--record-size", str(case.size),
            "--throughput", "-1", *security_config_args(s),
            "--command-property", *java_properties(case, s)]


def librdkafka_binary(security):
    # The plaintext build has no TLS; the SSL build (scripts/bench.sh librdkafka-ssl) is a
    # separate binary so that the plaintext numbers keep their build.
    name = "rdkafka_performance_ssl" if security else "rdkafka_performance"
    return os.path.join(BENCH_DIR, "bin", name)


def command_librdkafka(case, s, topic, scratch):
    # The same kind of value as the others: random upper-case letters, one value for
    # every record. In latency mode (-l) the tool writes "LATENCY:<microseconds>" over
    # the first ~24 bytes of each record and copies it (RD_KAFKA_MSG_F_COPY).
    rng = random.Random(case.size)
    payload = "".join(chr(rng.randrange(65, 91)) for _ in range(case.size))
    cmd = [librdkafka_binary(s.security), "-P", "-t", topic,
           "-b", s.bootstrap, "-s", str(case.size), "-c", str(s.records_for(case)), "-m", payload,
           "-a", "-1" if case.idempotent else "1",
           "-X", f"enable.idempotence={'true' if case.idempotent else 'false'}",
           "-X", f"compression.codec={case.compression}",
           "-X", f"batch.size={s.batch_size}", "-X", f"linger.ms={s.linger_ms}",
           "-X", f"queue.buffering.max.kbytes={BUFFER_MEMORY // 1024}"]
    if s.security:
        # No latency mode over TLS: its per-record copy, timestamp and latency file are
        # work the other clients do not do (their latency is a clock read per record),
        # and the CPU per record is what these cases compare. So no latencies for it.
        return [*cmd, *s.security.librdkafka_args(), "-i", "5000"]
    return [*cmd, "-l", "-A", os.path.join(scratch, "latencies.txt"), "-i", "5000"]


def command_aiokafka(case, s, topic, _scratch):
    cmd = [os.path.join(BENCH_DIR, "venv", "bin", "python"),
           os.path.join(REPO, "scripts", "bench_aiokafka.py"), "--topic", topic,
           "--num-records", str(s.records_for(case)), "--record-size", str(case.size),
           "--bootstrap-server", s.bootstrap, "--acks", case.acks,
           "--compression", case.compression, "--batch-size", str(s.batch_size),
           "--linger-ms", str(s.linger_ms)]
    if case.idempotent:
        cmd.append("--idempotent")
    return cmd


def command_franz(case, s, topic, _scratch):
    cmd = [os.path.join(BENCH_DIR, "bin", "bench_franz"), "-topic", topic,
           "-num-records", str(s.records_for(case)), "-record-size", str(case.size),
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
    # Per-record latencies in microseconds, one a line (-l -A FILE; not over TLS).
    path = os.path.join(scratch, "latencies.txt")
    if not os.path.exists(path):
        return result
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


def admin_args(settings):
    """TopicCommand's --bootstrap-server (and --command-config on the secured node, where
    only the admin user may create topics, on its own listener)."""
    sec = settings.security
    if sec:
        return ["--bootstrap-server", sec.admin_bootstrap, "--command-config", sec.admin_config]
    return ["--bootstrap-server", settings.bootstrap]


def create_topic(name, partitions, settings):
    out = subprocess.run([KAFKA_SH, "run-class", "org.apache.kafka.tools.TopicCommand",
                          *admin_args(settings), "--create", "--topic", name,
                          "--partitions", str(partitions), "--replication-factor", "1"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"cannot create topic {name}: {out.stderr.strip()[-500:]}")


def delete_topics(pattern, settings):
    subprocess.run([KAFKA_SH, "run-class", "org.apache.kafka.tools.TopicCommand",
                    *admin_args(settings), "--delete", "--if-exists", "--topic", pattern],
                   capture_output=True, text=True)


def run_one(client, case, settings, round_no, order, run_id, scratch, timeout):
    topic = f"bench-{run_id}-{case.name}-r{round_no}-{client}"
    create_topic(topic, case.partitions, settings)
    records = settings.records_for(case)
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
        "records_expected": records, "exit": code, "wall_s": round(wall, 3),
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
        if parsed["records"] != records:
            problems.append(f"{parsed['records']} of {records} records acknowledged")
    cpu = usage.ru_utime + usage.ru_stime
    row["cpu_s_per_million"] = round(cpu / records * 1e6, 3)
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


def versions(clients, security=None):
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
        binary = librdkafka_binary(security)
        usage = subprocess.run([binary, "-h"], capture_output=True, text=True).stderr
        m = re.search(r"librdkafka version (\S+)", usage)
        v["librdkafka"] = m.group(1) if m else None
        try:
            with open(binary + ".version") as f:
                v["librdkafka_source"] = f.read().strip()
        except OSError:
            pass
    if security:
        v.update(tls_versions(security))
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


def cargo_lock_version(crate):
    try:
        with open(os.path.join(REPO, "Cargo.lock")) as f:
            m = re.search(r'name = "' + re.escape(crate) + r'"\nversion = "([^"]+)"', f.read())
    except OSError:
        return None
    return m.group(1) if m else None


def tls_versions(security):
    """Each client's TLS stack, and what the listener negotiates with an OpenSSL client."""
    v = {"rustls": cargo_lock_version("rustls"), "ring": cargo_lock_version("ring")}
    v["openssl_cli"] = first_line(["openssl", "version"])
    host, port = security.bootstrap.rsplit(":", 1)
    try:
        out = subprocess.run(["openssl", "s_client", "-connect", f"{host}:{port}", "-brief",
                              "-CAfile", security.ca_file, "-verify_return_error"],
                             capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        text = out.stdout + out.stderr
        proto = re.search(r"Protocol version: (\S+)", text)
        cipher = re.search(r"Ciphersuite: (\S+)", text)
        if proto and cipher:
            v["tls_probe"] = f"{proto.group(1)}, {cipher.group(1)}"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return v


def example_command(client, case, settings):
    """The client's command line for `case`, shortened for the report."""
    classpath = kafka_classpath()
    prefixes = []  # paths outside the checkout, shown as the variable that set them
    if "CARGO_TARGET_DIR" in os.environ:
        prefixes.append((os.environ["CARGO_TARGET_DIR"].rstrip("/") + "/", "$CARGO_TARGET_DIR/"))
    if "ACTIX_KAFKA_STATE" in os.environ:
        prefixes.append((os.environ["ACTIX_KAFKA_STATE"].rstrip("/") + "/", "$ACTIX_KAFKA_STATE/"))
    words = []
    for word in COMMANDS[client](case, settings, "TOPIC", ".bench/tmp/RUN"):
        if word == classpath:
            words.append('"$(scripts/kafka.sh classpath)"')
            continue
        prefix = next(((p, var) for p, var in prefixes if p in word), None)
        if prefix:  # quoted apart from the variable, which the shell must expand
            before, _, after = word.partition(prefix[0])
            words.append((shlex.quote(before) if before else "") + prefix[1] + shlex.quote(after))
            continue
        if len(word) == case.size and word.isalpha() and word.isupper():
            words.append(f"<{case.size} random A-Z letters>")
            continue
        if word.startswith("sasl.password="):
            words.append("sasl.password=<password>")  # the test user's, but still a secret
            continue
        words.append(shlex.quote(word.replace(REPO + "/", "")))
    return " ".join(words)


def ensure_broker(bootstrap, security=None):
    if security:
        # Never started or stopped here: it belongs to whoever ran secure-up.
        for address in (bootstrap, security.admin_bootstrap):
            if subprocess.run([KAFKA_SH, "answers", address]).returncode != 0:
                sys.exit(f"bench: nothing answers on {address}: start the secured node with "
                         "`scripts/kafka.sh secure-up` (same ACTIX_KAFKA_STATE)")
        return False
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


def write_report(results_path, doc_path, others=()):
    with open(results_path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    meta = next((r for r in rows if r.get("type") == "meta"), None)
    if meta is None:
        sys.exit(f"bench: {results_path} has no meta line")
    if meta.get("security"):
        write_tls_report(rows, meta, results_path, doc_path, others)
        return
    if others:
        sys.exit("bench: --report takes one results file for the plaintext report")
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
              f"{mm['mb_per_sec']:.1f} | {fmt_opt_ms(mm, 'p50_ms')} | {fmt_opt_ms(mm, 'p99_ms')} | "
              f"{fmt_ratio(mm.get('p99_ms'), ours.get('p99_ms'))} | {fmt_opt_ms(mm, 'p999_ms')} | "
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
    text = "\n".join(out) + "\n"
    old = read_text(doc_path)
    block = tls_block(old) if old else None
    if block:  # the TLS section comes from another run: keep it
        text = put_tls_block(text, block)
    with open(doc_path, "w") as f:
        f.write(text)
    log(f"wrote {os.path.relpath(doc_path, REPO)} and {os.path.relpath(svg_path, REPO)}")


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def tls_block(text):
    """The TLS section of a report (markers included), or None."""
    start, end = text.find(TLS_BEGIN), text.find(TLS_END)
    if start < 0 or end < start:
        return None
    return text[start:end + len(TLS_END)]


def put_tls_block(text, block):
    """text with its TLS section replaced by block, or block inserted before the
    Reproduce section (at the end if there is none)."""
    old = tls_block(text)
    if old:
        return text.replace(old, block.rstrip("\n"))
    at = text.find("\n## Reproduce\n")
    if at < 0:
        return text.rstrip("\n") + "\n\n" + block.rstrip("\n") + "\n"
    return text[:at + 1] + block.rstrip("\n") + "\n\n" + text[at + 1:]


def fmt_opt_ms(mm, key):
    return fmt_ms(mm[key]) if key in mm else "–"


def fmt_inv_ratio(ours, value):
    """ours ÷ value: the brief's direction for the TLS targets."""
    if ours is None or value in (None, 0):
        return "–"
    return f"{ours / value:.2f}"


def tls_targets(med, case):
    """The issue-10 targets for one case: (cpu ratio, cpu met, tput met, medians) or None."""
    ours, java, rdk = (med.get((case, c)) for c in ("ours", "java", "librdkafka"))
    if not (ours and java and rdk):
        return None
    cpu_ratio = ours["cpu_s_per_million"] / rdk["cpu_s_per_million"]
    tput_ok = (ours["records_per_sec"] >= java["records_per_sec"]
               and ours["records_per_sec"] >= rdk["records_per_sec"])
    return cpu_ratio, cpu_ratio <= 0.5, tput_ok, (ours, java, rdk)


def verdict(ok, ratio=None, limit=None):
    """met / missed; "at the limit" when a ratio is within 10% of its limit, where the
    noise of this machine can flip it."""
    word = "met" if ok else "**missed**"
    if ratio is not None and abs(ratio - limit) <= 0.1 * limit:
        word += " (at the limit: within the noise)"
    return word


def write_tls_report(rows, meta, results_path, doc_path, others=()):
    """Writes (or replaces) the TLS section of doc_path from a --security run; the rest
    of the document is left as it is. `others` are results files of other TLS runs of
    the same cases, summarised in a table of their own."""
    end = next((r for r in rows if r.get("type") == "end"), None)
    runs = [r for r in rows if r.get("type") == "run"]
    med = medians(rows)
    clients = [c for c in meta["clients"] if any(r["client"] == c for r in runs)]
    case_names = [c for c in meta["cases"] if any(r["case"] == c for r in runs)]
    s, m, v, sec = meta["settings"], meta["machine"], meta["versions"], meta["security"]
    rel_results = os.path.relpath(results_path, REPO)
    by_case = s.get("records_by_case", {})
    out = []
    w = out.append
    w(TLS_BEGIN)
    w(f"## Over TLS ({sec['title']})")
    w("")
    rel_all = " ".join(os.path.relpath(p, REPO) for p in [*others, results_path])
    w(f"<!-- Generated by scripts/bench.py from {rel_all}. Regenerate: scripts/bench.py "
      f"--report {rel_all} (rewrites this section only) -->")
    w("")
    w(f"Run `{meta['run_id']}`, started {meta['started']}"
      + (f", took {end['wall_s'] / 60:.0f} min" if end else " (did not finish)")
      + f", actix-kafka at commit {v.get('actix_kafka_commit')}. "
      + ", ".join(CLIENT_LABELS[c] for c in clients)
      + " ran in the same run, in turn, in rotating order, on the same "
      f"{m['nproc']}-core machine as the tables above, where the broker and other work share "
      "the cores: single numbers can be off by tens of percent; CPU per record, the client "
      "process's own user+sys time, is the steadier measure.")
    w("")
    w("Every client connects to the secured node of `scripts/kafka.sh secure-up` (one KRaft "
      f"node, heap 256-512 MiB, `StandardAuthorizer` with ACLs) on its {sec['protocol']} "
      f"listener `{sec['bootstrap']}`, authenticates as `{sec['username']}` with "
      f"{sec['mechanism']}, and verifies the broker's certificate against the project's test CA "
      "and the name `127.0.0.1` against its IP SAN (hostname verification on: the default of "
      "all three). Topics are created beforehand by the admin user on the node's internal "
      f"listener `{sec['admin_bootstrap']}`."
      + (f" The listener negotiates {v['tls_probe']} with an OpenSSL client (`openssl s_client`, "
         "probed before the run); the clients' own handshakes are not recorded."
         if v.get("tls_probe") else ""))
    w("")
    w("### Against issue 10's targets")
    w("")
    w("Targets: our CPU per record over TLS at most 0.5× librdkafka's, and our TLS throughput "
      "at least both peers'. Medians of the rounds; ratios are ours ÷ the peer's.")
    w("")
    w("| case | CPU s / 1M: ours | librdkafka | ours ÷ librdkafka | ≤ 0.50? | records/s: ours "
      "| Java | librdkafka | ours ÷ Java | ours ÷ librdkafka | ≥ both? |")
    w("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|")
    cpu_met = tput_met = judged = 0
    for case in case_names:
        t = tls_targets(med, case)
        if t is None:
            w(f"| {case} | | | | not judged (a client failed every round) | | | | | | |")
            continue
        cpu_ratio, cpu_ok, tput_ok, (ours, java, rdk) = t
        judged += 1
        cpu_met += cpu_ok
        tput_met += tput_ok
        w(f"| {case} | {ours['cpu_s_per_million']:.3f} | {rdk['cpu_s_per_million']:.3f} | "
          f"{cpu_ratio:.3f} | {verdict(cpu_ok, cpu_ratio, 0.5)} | "
          f"{fmt_int(ours['records_per_sec'])} | {fmt_int(java['records_per_sec'])} | "
          f"{fmt_int(rdk['records_per_sec'])} | "
          f"{fmt_inv_ratio(ours['records_per_sec'], java['records_per_sec'])} | "
          f"{fmt_inv_ratio(ours['records_per_sec'], rdk['records_per_sec'])} | "
          f"{verdict(tput_ok)} |")
    w("")
    if judged:
        w(f"In this run: CPU target met in {cpu_met} of {judged} case(s); throughput target met "
          f"in {tput_met} of {judged} case(s). A ratio within 10% of its limit (marked \"at the "
          "limit\") is neither a reliable pass nor a reliable miss on this machine: round-to-round "
          "spread is about that large.")
        w("")
    if others:
        w("Other runs of these cases (same harness; each run's own medians):")
        w("")
        w("| run | rounds | case | CPU s / 1M: ours | librdkafka | ours ÷ librdkafka | ≤ 0.50? | "
          "records/s: ours | Java | librdkafka | ≥ both? |")
        w("|---|---:|---|---:|---:|---:|---|---:|---:|---:|---|")
        for path in others:
            with open(path) as f:
                orows = [json.loads(line) for line in f if line.strip()]
            ometa = next(r for r in orows if r.get("type") == "meta")
            omed = medians(orows)
            for case in ometa["cases"]:
                t = tls_targets(omed, case)
                if t is None:
                    w(f"| `{ometa['run_id']}` | {ometa['settings']['rounds']} | {case} | not judged "
                      "| | | | | | | |")
                    continue
                cpu_ratio, cpu_ok, tput_ok, (ours, java, rdk) = t
                w(f"| `{ometa['run_id']}` (commit {ometa['versions'].get('actix_kafka_commit')}) | "
                  f"{ometa['settings']['rounds']} | {case} | {ours['cpu_s_per_million']:.3f} | "
                  f"{rdk['cpu_s_per_million']:.3f} | {cpu_ratio:.3f} | "
                  f"{verdict(cpu_ok, cpu_ratio, 0.5)} | {fmt_int(ours['records_per_sec'])} | "
                  f"{fmt_int(java['records_per_sec'])} | {fmt_int(rdk['records_per_sec'])} | "
                  f"{verdict(tput_ok)} |")
        w("")
    for case in case_names:
        c = next(r for r in runs if r["case"] == case)
        w(f"### TLS: {case}")
        w("")
        w(Case(c["size"], c["partitions"], c["acks"], c["compression"]).describe()
          + f", {by_case.get(case, s['records']):,} records per run, over {sec['title']}.")
        w("")
        w("| client | records/s | ours ÷ client | MB/s | p50 ms | p99 ms | CPU s / 1M rec | "
          "ours ÷ client | peak RSS MiB | rounds |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        ours = med.get((case, "ours"), {})
        for client in clients:
            mm = med.get((case, client))
            if not mm:
                w(f"| {CLIENT_LABELS[client]} | failed | | | | | | | | 0 |")
                continue
            w(f"| {CLIENT_LABELS[client]} | {fmt_int(mm['records_per_sec'])} | "
              f"{fmt_inv_ratio(ours.get('records_per_sec'), mm['records_per_sec'])} | "
              f"{mm['mb_per_sec']:.1f} | {fmt_opt_ms(mm, 'p50_ms')} | {fmt_opt_ms(mm, 'p99_ms')} | "
              f"{mm['cpu_s_per_million']:.2f} | "
              f"{fmt_inv_ratio(ours.get('cpu_s_per_million'), mm['cpu_s_per_million'])} | "
              f"{mm['max_rss_kib'] / 1024:.0f} | {mm['rounds']} |")
        w("")
    w("### TLS: how each client was built and run")
    w("")
    w(f"- **{CLIENT_LABELS['ours']}**: commit {v.get('actix_kafka_commit')}, {v.get('rustc')}, "
      f"release profile; TLS by rustls {v.get('rustls')} with the ring {v.get('ring')} crypto "
      "provider (no OpenSSL); it reads the same Java client config file as the Java client "
      "(`--command-config`: `security.protocol`, `sasl.mechanism`, `sasl.jaas.config`, "
      "`ssl.truststore.type=PEM`, `ssl.truststore.location`).")
    if "java" in clients:
        w(f"- **{CLIENT_LABELS['java']}**: Kafka {v.get('kafka')}'s ProducerPerformance on "
          f"{v.get('java')} (TLS by the JDK's own JSSE), the JVM flags of "
          "`kafka-producer-perf-test.sh`, `--command-config` with that file. Its CPU includes "
          "the JVM's start-up, class loading and JIT compilation, which weighs more per record "
          "in these shorter runs than in the 1,000,000-record tables above (see CPU below).")
    if "librdkafka" in clients:
        w(f"- **{CLIENT_LABELS['librdkafka']}**: librdkafka {v.get('librdkafka')}, a separate "
          "build for TLS, `scripts/bench.sh install librdkafka-ssl` → "
          "`.bench/bin/rdkafka_performance_ssl`: the sources bundled in the crates.io crates "
          f"({v.get('librdkafka_source')}) with librdkafka's own `./configure --no-download "
          "--enable-ssl --disable-gssapi --disable-curl --enable-zstd --enable-zlib && make` "
          "(-O2). SASL PLAIN and SCRAM are part of librdkafka once SSL is on (no cyrus-sasl; "
          "GSSAPI is off). OpenSSL: the system's development package when its headers are "
          "installed, otherwise OpenSSL built static from the `openssl-src` crate's sources ("
          + ("this run: the system's, linked to its shared libssl/libcrypto"
             if "system OpenSSL" in (v.get("librdkafka_source") or "")
             else "this run: openssl-src, static") + "). The same "
          "settings as -X properties (`security.protocol`, `sasl.mechanisms`, `sasl.username`, "
          "`sasl.password`, `ssl.ca.location`). Run **without** the latency mode (`-l -A FILE`) "
          "of the plaintext tables: that mode copies every record, writes a timestamp into it and "
          "a line per record to a file, work the other clients do not do, so it has no latency "
          "columns here.")
    if "librdkafka" in clients and any(r["idempotent"] for r in runs):
        w("- **librdkafka with idempotence** sends nothing until it has its producer id (see the "
          "plaintext notes above): in the idempotent case that wait is part of its run time, and "
          "so of its records/s.")
    w("- **CPU** is each client's whole process (`wait4(2)`), so it includes start-up, the TLS "
      "handshake and the SCRAM exchange (the client's PBKDF2 with the broker's iteration "
      "count), once per connection, spread over the records of a run. How much that is: a "
      "10-record run over this listener, timed by hand while this section was written, took "
      "about 0.01 CPU-seconds for ours, 0.03 for librdkafka and 3 for Java (the JVM), so in "
      "a 500,000-record run start-up is about 0.02, 0.06 and 6 CPU s per 1M records of the "
      "numbers above.")
    w("")
    w("The same settings as the plaintext tables otherwise: keyless records unthrottled, "
      f"`batch.size={s['batch_size']}`, `linger.ms={s['linger_ms']}`, "
      f"`buffer.memory={s['buffer_memory']}` (librdkafka `queue.buffering.max.kbytes="
      f"{s['buffer_memory'] // 1024}`), `acks=1` without idempotence or `acks=all` with it, a "
      f"new 8-partition topic per client and round, {s['rounds']} round(s). Records per run: "
      + ", ".join(f"{n:,} for {c}" for c, n in by_case.items()) + ".")
    w("")
    w("Command:")
    w("")
    w("```sh")
    w(meta["command"])
    w("```")
    w("")
    w("Each client's command line (first case; TOPIC is a fresh topic per run):")
    w("")
    w("```sh")
    # The state directory as the variable that names it (runs recorded before
    # example_command did this still have the literal path in librdkafka's -X words).
    state = os.path.dirname(os.path.dirname(os.path.dirname(sec["client_config"]))) + "/"
    for client, cmd in meta["example_commands"].items():
        w(f"# {CLIENT_LABELS[client]}")
        w(cmd.replace(state, "$ACTIX_KAFKA_STATE/"))
    w("```")
    w("")
    failed = [r for r in runs if not r.get("ok")]
    if failed:
        w("Failed runs, left out of the medians:")
        w("")
        for r in failed:
            w(f"- {r['case']}, {CLIENT_LABELS[r['client']]}, round {r['round']}: "
              f"{r.get('error', '?')[:300]}")
        w("")
    w(f"Every run (raw rows in `{rel_results}` on the machine that ran them): records/s, CPU "
      "s per 1M records, and (n.) the client's place in that round's order:")
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
                    cells.append(f"{fmt_int(r['records_per_sec'])}, {r['cpu_s_per_million']:.2f} "
                                 f"({r['order']}.)")
            w(f"| {case} | {CLIENT_LABELS[client]} | " + " | ".join(cells) + " |")
    w("")
    w("Reproduce: start the secured node (`scripts/kafka.sh secure-up`), then "
      f"`scripts/bench.sh --security {sec['mode']}` (set `ACTIX_KAFKA_STATE` if the node runs "
      "from another checkout's state directory).")
    w(TLS_END)
    block = "\n".join(out) + "\n"
    old = read_text(doc_path)
    text = put_tls_block(old, block) if old else block
    os.makedirs(os.path.dirname(os.path.abspath(doc_path)), exist_ok=True)
    with open(doc_path, "w") as f:
        f.write(text)
    log(f"wrote the TLS section of {os.path.relpath(doc_path, REPO)}")


# ---------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/bench.sh",
        description="Side-by-side producer benchmark on the local broker; see docs/benchmarks.md.")
    p.add_argument("--quick", action="store_true",
                   help="200,000 records and 1 round (unless --records/--rounds say otherwise)")
    p.add_argument("--records", type=int, help="records per run (1,000,000; --quick 200,000)")
    p.add_argument("--records-for", action="append", metavar="SIZE=N", default=[],
                   help="records per run for the cases with SIZE-byte values (repeatable; with "
                   "--security: 100=500000 and 1024=200000 unless --records is given)")
    p.add_argument("--rounds", type=int, help="rounds (3; --quick 1)")
    p.add_argument("--clients", type=csv(str),
                   help="comma-separated, from " + ",".join(CLIENTS) + " (all but ours-before; "
                   "with --security ours,java,librdkafka)")
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
    p.add_argument("--bootstrap", help="the broker (127.0.0.1:9092; with --security the "
                   "secured node's listener, 127.0.0.1:9307)")
    p.add_argument("--security", choices=sorted(SECURITY_MODES),
                   help="run over TLS against the secured node of `scripts/kafka.sh secure-up`: "
                   "ours, java and librdkafka (its SSL build), by default the cases "
                   + " and ".join(TLS_CASES) + ", 3 rounds; the report goes into its own "
                   "section of --doc")
    p.add_argument("--kafka-state", default=os.environ.get("ACTIX_KAFKA_STATE",
                                                           os.path.join(REPO, ".kafka")),
                   help="the state directory of scripts/kafka.sh, for the secured node's client "
                   "configs ($ACTIX_KAFKA_STATE, else <repo>/.kafka)")
    p.add_argument("--timeout", type=int, help="seconds before a run is killed (120 + records/5000)")
    p.add_argument("--doc", default=os.path.join(REPO, "docs", "benchmarks.md"),
                   help="report to write (docs/benchmarks.md; the plot goes next to it as .svg)")
    p.add_argument("--no-doc", action="store_true", help="only write the results file")
    p.add_argument("--report", metavar="RESULTS", nargs="+",
                   help="run nothing: regenerate the report from a results .jsonl file (for the "
                   "TLS section, several: the last in full, the others' medians and verdicts in "
                   "a table of their own)")
    p.add_argument("--list", action="store_true", help="print the selected cases and exit")
    args = p.parse_args(argv)
    secure_clients = ["ours", "java", "librdkafka", "ours-before"]
    if args.clients is None:
        args.clients = (secure_clients[:3] if args.security
                        else [c for c in CLIENTS if c != "ours-before"])
    args.records_by_size = {}
    if args.security and not args.records:
        args.records_by_size.update(TLS_RECORDS_BY_SIZE)
    for item in args.records_for:
        size, _, n = item.partition("=")
        if not (size.isdigit() and n.isdigit()):
            p.error(f"--records-for takes SIZE=N, not {item!r}")
        args.records_by_size[int(size)] = int(n)
    if args.security:
        if set(args.clients) - set(secure_clients):
            p.error("--security runs ours, java, librdkafka and ours-before only (the aiokafka "
                    "and franz-go drivers take no security settings)")
        if not args.case and argv_has_no_case_selection(argv):
            args.case = list(TLS_CASES)
        args.bootstrap = args.bootstrap or SECURITY_MODES[args.security]["bootstrap"]
        args.security_config = None if args.report else Security(args.security, args.kafka_state)
    else:
        args.bootstrap = args.bootstrap or "127.0.0.1:9092"
        args.security_config = None
    args.records = args.records or (200_000 if args.quick else 1_000_000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    unknown = set(args.clients) - set(CLIENTS)
    if unknown:
        p.error(f"unknown client(s) {sorted(unknown)}")
    if set(args.acks) - {"1", "all"}:
        p.error("--acks takes 1 and/or all")
    return args


def argv_has_no_case_selection(argv):
    options = ("--sizes", "--partitions", "--acks", "--compression", "--case")
    return not any(a.split("=", 1)[0] in options for a in argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.report:
        paths = [os.path.abspath(r) for r in args.report]
        write_report(paths[-1], args.doc, others=paths[:-1])
        return 0
    cases = build_cases(args)
    if args.list:
        for case in cases:
            print(case.name)
        return 0
    if not cases:
        sys.exit("bench: no case selected")
    installs = ["librdkafka-ssl" if c == "librdkafka" and args.security else c for c in args.clients]
    subprocess.run([os.path.join(REPO, "scripts", "bench.sh"), "install", *installs], check=True)
    started_broker = ensure_broker(args.bootstrap, args.security_config)
    try:
        return run_all(args, argv, cases)
    finally:
        if started_broker:
            log("stopping the broker this run started (scripts/kafka.sh down)")
            subprocess.run([KAFKA_SH, "down"])


def run_all(args, argv, cases):
    """Runs every case, round and client; writes the results file and the report."""
    settings = Settings(args)
    most = max([args.records, *args.records_by_size.values()])
    timeout = args.timeout or 120 + most // 5000
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
                     "bootstrap": args.bootstrap,
                     "records_by_case": {c.name: settings.records_for(c) for c in cases}},
        "security": security_meta(settings.security),
        "machine": machine_info(), "versions": versions(args.clients, settings.security),
        "example_commands": {c: example_command(c, example, settings) for c in args.clients},
    }
    total = len(cases) * args.rounds * len(args.clients)
    counts = sorted({settings.records_for(c) for c in cases})
    log(f"{total} runs: {len(cases)} case(s) x {args.rounds} round(s) x {len(args.clients)} client(s), "
        f"{' or '.join(f'{n:,}' for n in counts)} records each"
        + (f", over {settings.security.title} on {args.bootstrap}" if settings.security else "")
        + f"; results in {os.path.relpath(results_path, REPO)}")
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
                    status = (f"{row['records_per_sec']:,.0f} rec/s, p99 {row.get('p99_ms', '-')} ms, "
                              f"{row['cpu_s_per_million']:.2f} CPU s/1M" if row["ok"]
                              else f"FAILED: {row['error'][:200]}")
                    log(f"[{done}/{total}] {case.name} round {round_no} {client}: {status}")
            delete_topics(f"bench-{run_id}-{case.name}-.*", settings)
        results.write(json.dumps({"type": "end", "wall_s": round(time.monotonic() - began, 1)}) + "\n")
    log(f"done in {(time.monotonic() - began) / 60:.1f} min")
    if not args.no_doc:
        write_report(results_path, args.doc)
    return 0


def security_meta(security):
    if not security:
        return None
    return {"mode": security.mode, "title": security.title, "protocol": security.protocol,
            "mechanism": security.mechanism, "username": security.username,
            "bootstrap": security.bootstrap, "client_config": security.client_config,
            "ca_file": security.ca_file, "admin_bootstrap": security.admin_bootstrap}


if __name__ == "__main__":
    sys.exit(main())
