//! Fault-injection helpers for the 3-node cluster (`scripts/kafka.sh
//! cluster-up`): topic state from Kafka's topic tool, waiting for replicas to
//! be back in sync, and putting stopped nodes back.

use std::collections::BTreeMap;
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_kafka_integration::repo_root;

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

/// State a fault thread shares with its test: at least a stop flag, raised
/// when the test ends (or fails).
pub trait FaultState: Send + Sync + 'static {
    fn stop_flag(&self) -> &AtomicBool;
}

/// A thread that kills and restarts nodes on a schedule, returning a log
/// line per kill. Dropped (also when the test fails), it raises the stop
/// flag, waits for the thread and starts every node that is down.
pub struct FaultThread<S: FaultState> {
    bootstrap: String,
    pub shared: Arc<S>,
    thread: Option<JoinHandle<Vec<String>>>,
}

impl<S: FaultState> FaultThread<S> {
    /// Runs `schedule` on its own thread.
    pub fn start(
        bootstrap: &str,
        shared: Arc<S>,
        schedule: impl FnOnce(Arc<S>) -> Vec<String> + Send + 'static,
    ) -> FaultThread<S> {
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fault-injector".into())
            .spawn(move || schedule(for_thread))
            .expect("spawn the fault thread");
        FaultThread {
            bootstrap: bootstrap.to_string(),
            shared,
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

impl<S: FaultState> Drop for FaultThread<S> {
    fn drop(&mut self) {
        self.shared.stop_flag().store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        restore_nodes(&self.bootstrap);
    }
}
