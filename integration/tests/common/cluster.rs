//! Fault-injection helpers for the 3-node cluster (`scripts/kafka.sh
//! cluster-up`): topic state from Kafka's topic tool, waiting for replicas to
//! be back in sync, and putting stopped nodes back.

use std::collections::BTreeMap;
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_kafka_integration::{kafka_sh, repo_root};

/// The cluster's node ids.
pub const NODES: [u32; 3] = [1, 2, 3];

/// How long the cluster may take to bring every replica back in sync.
pub const ISR_TIMEOUT: Duration = Duration::from_secs(120);

/// The number in environment variable `name`, or `default`.
pub fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a valid number")),
        Err(_) => default,
    }
}

/// `scripts/kafka.sh` without panicking (for loops that tolerate a failure
/// and for guards, which must not panic while unwinding).
pub fn try_kafka_sh(bootstrap: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new("bash")
        .arg(repo_root().join("scripts/kafka.sh"))
        .args(args)
        .env("BOOTSTRAP", bootstrap)
        .output()
        .map_err(|e| format!("cannot run scripts/kafka.sh: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "scripts/kafka.sh {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// One partition as `topic-describe` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    pub leader: Option<u32>,
    pub isr: usize,
}

/// Parses `Partition: P  Leader: N  Replicas: ..  Isr: a,b,c` lines
/// (`Leader: none` while the partition is offline).
pub fn parse_describe(out: &str) -> BTreeMap<u64, PartitionState> {
    let mut partitions = BTreeMap::new();
    for line in out.lines() {
        let field = |name: &str| {
            line.split('\t')
                .find_map(|f| f.trim().strip_prefix(name))
                .map(str::trim)
        };
        let Some(partition) = field("Partition:").and_then(|p| p.parse().ok()) else {
            continue;
        };
        let leader = field("Leader:").and_then(|l| l.parse().ok());
        let isr = field("Isr:").map_or(0, |isr| isr.split(',').filter(|n| !n.is_empty()).count());
        partitions.insert(partition, PartitionState { leader, isr });
    }
    partitions
}

/// Waits until each of the `partitions` partitions of `topic` has a leader
/// and all 3 replicas in sync; returns the leaders. Panics after
/// [`ISR_TIMEOUT`], or at once when `stop` is raised.
pub fn wait_full_isr(bootstrap: &str, topic: &str, partitions: u64, stop: &AtomicBool) -> BTreeMap<u64, u32> {
    let deadline = Instant::now() + ISR_TIMEOUT;
    loop {
        let last = match try_kafka_sh(bootstrap, &["topic-describe", topic]) {
            Ok(out) => {
                let state = parse_describe(&out);
                if state.len() == partitions as usize
                    && state.values().all(|p| p.leader.is_some() && p.isr == NODES.len())
                {
                    return state
                        .into_iter()
                        .map(|(p, s)| (p, s.leader.unwrap_or_default()))
                        .collect();
                }
                out
            }
            Err(e) => e,
        };
        assert!(
            !stop.load(Ordering::SeqCst),
            "the test is ending: not waiting for the ISR of {topic}"
        );
        assert!(
            Instant::now() < deadline,
            "the replicas of {topic} were not all back in sync within {ISR_TIMEOUT:?}; last describe:\n{last}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Sleeps `duration` unless `stop` is raised first.
pub fn sleep_unless(stop: &AtomicBool, duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The cluster nodes `scripts/kafka.sh status` reports as stopped.
pub fn stopped_nodes(bootstrap: &str) -> Result<Vec<u32>, String> {
    let status = try_kafka_sh(bootstrap, &["status"])?;
    Ok(NODES
        .into_iter()
        .filter(|n| {
            status
                .lines()
                .any(|l| l.trim() == format!("cluster/node{n}: stopped"))
        })
        .collect())
}

/// Starts every cluster node that is not running; never panics.
pub fn restore_nodes(bootstrap: &str) {
    match stopped_nodes(bootstrap) {
        Ok(stopped) => {
            for n in stopped {
                let n = n.to_string();
                eprintln!("fault run: restarting cluster node {n}");
                if let Err(e) = try_kafka_sh(bootstrap, &["node-start", &n]) {
                    eprintln!("fault run: could not restart node {n}: {e}");
                }
            }
        }
        Err(e) => eprintln!("fault run: cannot read the cluster status: {e}"),
    }
}

/// The first 20 items, for failure messages.
pub fn first_few<T: std::fmt::Debug>(items: &[T]) -> String {
    format!(
        "{:?}{}",
        &items[..items.len().min(20)],
        if items.len() > 20 { " ..." } else { "" }
    )
}

/// The records of a fault run are released in `2 × kills + 1` segments: the
/// first at the start, then for each kill one just before the SIGKILL (so the
/// client is in the middle of its work when the node dies, and goes on while
/// it is down) and one once the node serves again. The end of segment `i`.
pub fn segment_end(records: u64, kills: u64, i: u64) -> u64 {
    let segments = 2 * kills + 1;
    records * (i + 1).min(segments) / segments
}

/// What a fault run's client and its fault thread share.
#[derive(Default)]
pub struct Schedule {
    /// Raised when the test ends (or fails): the fault thread restarts the
    /// node it killed and returns.
    pub stop: AtomicBool,
    /// How far the client got (records sent, records copied, ...).
    pub progress: AtomicU64,
    /// The client goes no further than this until the fault thread releases
    /// the next segment.
    pub allowed: AtomicU64,
}

/// What is done to a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeFault {
    /// SIGKILL, then a restart after `down`.
    Kill,
    /// SIGSTOP, then SIGCONT after `down`: a gray failure. The process and
    /// its sockets stay, but it answers nothing; past the cluster's
    /// broker session timeout the controller fences it and moves its
    /// leaderships, while clients still hold connections to it (a zombie
    /// leader).
    Freeze,
}

/// The size of a fault run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// What each fault does.
    pub fault: NodeFault,
    /// Records in the run.
    pub records: u64,
    /// Nodes to kill, one after the other.
    pub kills: u64,
    /// How long a killed node stays down.
    pub down: Duration,
    /// How long to wait for the client to make progress in a new segment
    /// before killing anyway.
    pub burst_wait: Duration,
}

/// The fault thread's schedule: `plan.kills` times, wait until the client has
/// done what was released and every replica of `topic` is in sync, release
/// a segment, SIGKILL the node `target(kill, leaders)` picks (with what it
/// is, for the log) as soon as the client makes progress in it, keep it down
/// for `plan.down`, restart it and release the next segment. Returns a log
/// line per kill.
pub fn kill_in_segments(
    bootstrap: &str,
    (topic, partitions): (&str, u64),
    plan: Plan,
    schedule: &Schedule,
    mut target: impl FnMut(u64, &BTreeMap<u64, u32>) -> (u32, String),
) -> Vec<String> {
    let started = Instant::now();
    let at = || started.elapsed().as_secs_f64();
    let stopping = || schedule.stop.load(Ordering::SeqCst);
    let progress = || schedule.progress.load(Ordering::SeqCst);
    let mut log = Vec::new();
    for kill in 0..plan.kills {
        while progress() < schedule.allowed.load(Ordering::SeqCst) && !stopping() {
            std::thread::sleep(Duration::from_millis(10));
        }
        if stopping() {
            break;
        }
        let leaders = wait_full_isr(bootstrap, topic, partitions, &schedule.stop);
        let (node, role) = target(kill, &leaders);
        let node = node.to_string();
        let before = progress();
        let release = segment_end(plan.records, plan.kills, 2 * kill + 1);
        schedule.allowed.store(release, Ordering::SeqCst);
        let burst = Instant::now();
        while progress() == before && burst.elapsed() < plan.burst_wait && !stopping() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let done = progress();
        let what = match plan.fault {
            NodeFault::Kill => {
                kafka_sh(bootstrap, &["node-kill", &node]);
                "killed"
            }
            NodeFault::Freeze => {
                signal_node(&node, "STOP");
                "frozen"
            }
        };
        let killed_at = at();
        sleep_unless(&schedule.stop, plan.down);
        // Restarted (or thawed) even when the test is ending.
        match plan.fault {
            NodeFault::Kill => {
                kafka_sh(bootstrap, &["node-start", &node]);
            }
            NodeFault::Freeze => signal_node(&node, "CONT"),
        }
        log.push(format!(
            "fault {}: node {node} ({role}) {what} at {killed_at:.1}s with {done} records done, \
             serving again at {:.1}s",
            kill + 1,
            at()
        ));
        let release = segment_end(plan.records, plan.kills, 2 * kill + 2);
        schedule.allowed.store(release, Ordering::SeqCst);
    }
    schedule.allowed.store(plan.records, Ordering::SeqCst);
    log
}

/// Sends SIGSTOP or SIGCONT to cluster node `node`, by the PID that
/// `scripts/kafka.sh` recorded for it (checked against the process's
/// command line, as the script does: never a process we did not start).
pub fn signal_node(node: &str, signal: &str) {
    let state = std::env::var_os("ACTIX_KAFKA_STATE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".kafka"));
    let dir = state.join("cluster").join(format!("node{node}"));
    let pid = std::fs::read_to_string(dir.join("kafka.pid"))
        .unwrap_or_else(|e| panic!("no pid file for node {node} in {}: {e}", dir.display()));
    let pid = pid.trim();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let expected = format!("{}/server.properties", dir.display());
    assert!(
        String::from_utf8_lossy(&cmdline).contains(&expected),
        "pid {pid} is not node {node} of this cluster"
    );
    let status = Command::new("kill")
        .args([&format!("-{signal}"), pid])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// A thread that runs a fault schedule, returning its log. Dropped (also when
/// the test fails), it raises the stop flag, waits for the thread and starts
/// every node that is down.
pub struct FaultThread {
    bootstrap: String,
    pub schedule: Arc<Schedule>,
    thread: Option<JoinHandle<Vec<String>>>,
}

impl FaultThread {
    /// Releases the first segment of `plan` and runs `faults` on its own
    /// thread.
    pub fn start(
        bootstrap: &str,
        plan: Plan,
        faults: impl FnOnce(Arc<Schedule>) -> Vec<String> + Send + 'static,
    ) -> FaultThread {
        let schedule = Arc::new(Schedule::default());
        let first = segment_end(plan.records, plan.kills, 0);
        schedule.allowed.store(first, Ordering::SeqCst);
        let for_thread = schedule.clone();
        let thread = std::thread::Builder::new()
            .name("fault-injector".into())
            .spawn(move || faults(for_thread))
            .expect("spawn the fault thread");
        FaultThread {
            bootstrap: bootstrap.to_string(),
            schedule,
            thread: Some(thread),
        }
    }

    /// Whether the fault thread has ended (it may have failed).
    pub fn done(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the fault thread; its panic (a failed kill or restart)
    /// fails the test.
    pub fn join(&mut self) -> Vec<String> {
        match self.thread.take().map(JoinHandle::join) {
            None => Vec::new(),
            Some(Ok(log)) => log,
            Some(Err(panic)) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("the fault thread failed: {message}")
            }
        }
    }
}

impl Drop for FaultThread {
    fn drop(&mut self) {
        self.schedule.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        restore_nodes(&self.bootstrap);
    }
}
