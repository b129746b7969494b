//! The examples in `examples/`, run as users run them (`cargo run -p
//! actix-kafka-examples --bin NAME`) against the real broker, each on a fresh
//! topic. Checks what they print and what Kafka's console consumer reads back.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Once};
use std::thread;
use std::time::{Duration, Instant};

use actix_kafka_integration::{bootstrap, console_consume, create_topic, repo_root, unique_topic};

mod common;

/// How long one example may run once it is built.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds the examples once, so that the timed runs below do not include
/// compiling actix-web (cargo may also wait for other builds' locks here).
fn build_examples() {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "actix-kafka-examples", "--bins"])
            .current_dir(repo_root())
            .status()
            .expect("cannot run cargo");
        assert!(status.success(), "building the examples failed: {status}");
    });
}

/// Starts `cargo run -q -p actix-kafka-examples --bin bin -- args`, with
/// stdout and stderr piped.
fn spawn_example(bin: &str, args: &[&str]) -> Child {
    build_examples();
    Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "actix-kafka-examples", "--bin", bin, "--"])
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"))
}

/// Reads `pipe` to its end on a thread.
fn collect(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Waits for `child` to exit; kills it (by its own handle) after `timeout`.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Runs an example to its end and returns its stdout; panics (with both
/// outputs) if it fails or outlives [`RUN_TIMEOUT`].
fn run_example(bin: &str, args: &[&str]) -> String {
    let mut child = spawn_example(bin, args);
    let stdout = collect(child.stdout.take().expect("stdout"));
    let stderr = collect(child.stderr.take().expect("stderr"));
    let status = wait_with_timeout(&mut child, RUN_TIMEOUT);
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    match status {
        Some(status) if status.success() => stdout,
        Some(status) => panic!("{bin} {args:?} failed ({status}):\nstdout:\n{stdout}\nstderr:\n{stderr}"),
        None => {
            panic!("{bin} {args:?} did not finish in {RUN_TIMEOUT:?}:\nstdout:\n{stdout}\nstderr:\n{stderr}")
        }
    }
}

/// The value of ` name=` in `line` (up to the next space).
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let start = line
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
        + name.len()
        + 1;
    line[start..].split(' ').next().unwrap_or_default()
}

fn int_field(line: &str, name: &str) -> i64 {
    field(line, name)
        .parse()
        .unwrap_or_else(|e| panic!("{name} in {line:?}: {e}"))
}

#[test]
fn quickstart_acks_every_record() {
    let bootstrap = bootstrap();
    let topic = unique_topic("example-quickstart");
    create_topic(&bootstrap, &topic, 1, &[]);

    let out = run_example(
        "quickstart",
        &[
            "--bootstrap-servers",
            &bootstrap,
            "--topic",
            &topic,
            "--count",
            "3",
        ],
    );
    let acks: Vec<&str> = out.lines().filter(|l| l.starts_with("acked: ")).collect();
    assert_eq!(acks.len(), 3, "stdout:\n{out}");
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(field(ack, "topic"), topic);
        assert_eq!(int_field(ack, "partition"), 0);
        assert_eq!(int_field(ack, "offset"), i as i64);
    }

    let lines = console_consume(&bootstrap, &topic, 3, &[]);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line, &format!("Partition:0|Offset:{i}|null|Super message {i}"));
    }
}

#[test]
fn transactions_commit_one_transaction_and_abort_the_other() {
    let bootstrap = bootstrap();
    let topic = unique_topic("example-txn");
    let offsets_topic = unique_topic("example-txn-offsets");
    let group = unique_topic("example-txn-group");
    create_topic(&bootstrap, &topic, 1, &[]);
    create_topic(&bootstrap, &offsets_topic, 1, &[]);
    let transactional_id = unique_topic("example-txn-id");
    let out = run_example(
        "transactions",
        &[
            "--bootstrap-servers",
            &bootstrap,
            "--topic",
            &topic,
            "--transactional-id",
            &transactional_id,
            "--group",
            &group,
            "--offsets-topic",
            &offsets_topic,
        ],
    );
    let steps: Vec<&str> = out
        .lines()
        .map(|l| l.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(steps, ["sent", "committed", "sent", "aborted"], "stdout:\n{out}");

    assert_eq!(
        common::values_seen(&bootstrap, &topic, 2, "read_committed"),
        ["Super transactional message"]
    );
    assert_eq!(
        common::values_seen(&bootstrap, &topic, 2, "read_uncommitted"),
        ["Super transactional message", "Never visible to read_committed"]
    );
    assert_eq!(
        common::committed_offsets(&bootstrap, &group, &offsets_topic),
        BTreeMap::from([(0, 100)]),
        "the offset was committed with the first transaction"
    );
}

/// Checks a `delivery_events` run of `count` records on `topic`
/// (`partitions` partitions) against its output and the console consumer.
fn check_delivery_events(topic: &str, partitions: u32, count: usize) {
    let bootstrap = bootstrap();
    create_topic(&bootstrap, topic, partitions, &[]);
    let count_arg = count.to_string();
    let out = run_example(
        "delivery_events",
        &[
            "--bootstrap-servers",
            &bootstrap,
            "--topic",
            topic,
            "--count",
            &count_arg,
        ],
    );

    // One event per batch; together they cover every record, kept or dropped,
    // as contiguous offset ranges per partition.
    let mut covered: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for event in out.lines().filter(|l| l.starts_with("event: ")) {
        assert!(!event.contains("failed"), "stdout:\n{out}");
        assert_eq!(field(event, "topic"), topic);
        let base = int_field(event, "base_offset");
        let records = int_field(event, "records");
        covered
            .entry(int_field(event, "partition"))
            .or_default()
            .push((base, base + records));
    }
    for ranges in covered.values_mut() {
        ranges.sort_unstable();
        let mut next = 0;
        for &(start, end) in ranges.iter() {
            assert_eq!(
                start, next,
                "events leave a gap or overlap: {ranges:?}\nstdout:\n{out}"
            );
            next = end;
        }
    }
    let total: i64 = covered.values().flatten().map(|(s, e)| e - s).sum();
    assert_eq!(total, count as i64, "stdout:\n{out}");
    let summary = format!(" batches, {count} records");
    assert!(
        out.lines()
            .any(|l| l.starts_with("events: ") && l.ends_with(&summary)),
        "stdout:\n{out}"
    );

    // The delivery futures it kept: the even-numbered records.
    let delivered: HashMap<String, (i64, i64)> = out
        .lines()
        .filter_map(|l| l.strip_prefix("delivered: "))
        .map(|l| {
            let key = l.split(' ').next().unwrap().to_string();
            (key, (int_field(l, "partition"), int_field(l, "offset")))
        })
        .collect();
    assert_eq!(delivered.len(), count.div_ceil(2), "stdout:\n{out}");

    // Kafka has every record, including those whose futures were dropped, at
    // the places the acks and events said.
    let lines = console_consume(&bootstrap, topic, count, &[]);
    let mut seen = HashMap::new();
    for line in &lines {
        let parts: Vec<&str> = line.split('|').collect();
        let partition: i64 = parts[0].strip_prefix("Partition:").unwrap().parse().unwrap();
        let offset: i64 = parts[1].strip_prefix("Offset:").unwrap().parse().unwrap();
        let i = parts[2].strip_prefix("key-").expect("key-N");
        assert_eq!(parts[3], format!("event {i}"));
        assert!(
            covered[&partition].iter().any(|&(s, e)| (s..e).contains(&offset)),
            "{line} is in no event"
        );
        seen.insert(parts[2].to_string(), (partition, offset));
    }
    assert_eq!(seen.len(), count, "duplicate keys:\n{}", lines.join("\n"));
    for (key, place) in &delivered {
        assert_eq!(seen.get(key), Some(place), "{key}");
    }
}

#[test]
fn delivery_events_cover_kept_and_dropped_sends() {
    check_delivery_events(&unique_topic("example-events"), 3, 20);
}

/// Many more batches complete than a subscriber's mailbox capacity (actix's
/// default, 16) before it runs: no event may be dropped.
#[test]
fn delivery_events_cover_many_batches() {
    check_delivery_events(&unique_topic("example-events-many"), 64, 20_000);
}

#[test]
fn direct_batches_fill_a_batch_and_report_its_first_offset() {
    let bootstrap = bootstrap();
    let topic = unique_topic("example-batches");
    create_topic(&bootstrap, &topic, 3, &[]);

    // A random partition first, then the same one explicitly: the second
    // batch's first offset is the first batch's record count.
    let first = run_example(
        "direct_batches",
        &["--bootstrap-servers", &bootstrap, "--topic", &topic],
    );
    let parse = |out: &str| {
        let batch = out
            .lines()
            .find(|l| l.starts_with("batch: "))
            .expect("batch: line");
        let count: usize = batch["batch: ".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let delivered = out
            .lines()
            .find(|l| l.starts_with("delivered: "))
            .expect("delivered: line");
        assert_eq!(field(delivered, "topic"), topic);
        (
            count,
            int_field(delivered, "partition"),
            int_field(delivered, "offset"),
        )
    };
    let (count, partition, offset) = parse(&first);
    assert!(
        count > 2,
        "a full batch holds more than the seed's two records:\n{first}"
    );
    assert!((0..3).contains(&partition), "{first}");
    assert_eq!(offset, 0, "{first}");

    let partition_arg = partition.to_string();
    let second = run_example(
        "direct_batches",
        &[
            "--bootstrap-servers",
            &bootstrap,
            "--topic",
            &topic,
            "--partition",
            &partition_arg,
        ],
    );
    assert_eq!(parse(&second), (count, partition, count as i64), "{second}");

    let lines = console_consume(&bootstrap, &topic, 2 * count, &[]);
    let mut by_offset: Vec<(i64, String)> = lines
        .iter()
        .map(|line| {
            let parts: Vec<&str> = line.splitn(4, '|').collect();
            assert_eq!(parts[0], format!("Partition:{partition}"), "{line}");
            assert_eq!(parts[2], "null", "{line}");
            let offset = parts[1].strip_prefix("Offset:").unwrap().parse().unwrap();
            (offset, parts[3].to_string())
        })
        .collect();
    by_offset.sort();
    for (n, (offset, value)) in by_offset.iter().enumerate() {
        assert_eq!(*offset, n as i64);
        assert_eq!(value, &format!("msg {}", n % count));
    }
}

/// One HTTP/1.1 POST with `Connection: close`; returns (status, body).
fn http_post(addr: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    (status, body.to_string())
}

/// The number after `"name":` in a flat JSON object.
fn json_int(json: &str, name: &str) -> i64 {
    let key = format!("\"{name}\":");
    let start = json.find(&key).unwrap_or_else(|| panic!("no {name} in {json}")) + key.len();
    let digits: String = json[start..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().unwrap_or_else(|e| panic!("{name} in {json}: {e}"))
}

/// Kills the server by its process id (not `cargo run`'s, which would leave
/// the server running) when dropped, unless disarmed: a failing test does not
/// leave it behind.
struct KillOnDrop(Option<String>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    }
}

#[test]
fn actix_web_service_produces_per_request() {
    let bootstrap = bootstrap();
    let topic = unique_topic("example-web");
    create_topic(&bootstrap, &topic, 1, &[]);

    // Port 0: the server binds a free port and prints it, so no other
    // process can take it between a probe and the bind.
    let mut child = spawn_example(
        "actix_web_service",
        &[
            "--bootstrap-servers",
            &bootstrap,
            "--topic",
            &topic,
            "--port",
            "0",
            "--requests",
            "3",
        ],
    );
    let stderr = collect(child.stderr.take().expect("stderr"));
    let (lines_tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let listening = match lines.recv_timeout(RUN_TIMEOUT) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server printed nothing; stderr:\n{}", stderr.join().unwrap());
        }
    };
    // "listening on http://127.0.0.1:PORT (pid PID)"
    let addr = listening
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected first line {listening:?}"))
        .to_string();
    let pid = listening
        .rsplit("(pid ")
        .next()
        .and_then(|rest| rest.strip_suffix(')'))
        .expect("pid")
        .to_string();
    let mut server = KillOnDrop(Some(pid));

    let mut offsets = Vec::new();
    for i in 0..3 {
        let (status, body) = http_post(&addr, &format!("/events/user-{i}"), &format!("hello {i}"));
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(&format!("\"topic\":\"{topic}\"")), "{body}");
        assert_eq!(json_int(&body, "partition"), 0, "{body}");
        offsets.push(json_int(&body, "offset"));
    }
    assert_eq!(offsets, [0, 1, 2]);

    // `--requests 3`: it stops by itself after the third response.
    let status = wait_with_timeout(&mut child, RUN_TIMEOUT);
    if status.is_some() {
        server.0 = None;
    }
    drop(server);
    let rest: Vec<String> = lines.iter().collect();
    let stderr = stderr.join().unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "server exit {status:?}; stdout after listening:\n{}\nstderr:\n{stderr}",
        rest.join("\n")
    );
    assert_eq!(
        rest.last().map(String::as_str),
        Some("stopped"),
        "stderr:\n{stderr}"
    );

    let consumed = console_consume(&bootstrap, &topic, 3, &[]);
    for (i, line) in consumed.iter().enumerate() {
        assert_eq!(line, &format!("Partition:0|Offset:{i}|user-{i}|hello {i}"));
    }
}
