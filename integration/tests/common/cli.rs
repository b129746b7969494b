//! Running the `actix-kafka` binary from tests. It belongs to another
//! package, so `CARGO_BIN_EXE_*` is not set: the first test that needs it
//! builds it with the same cargo and profile (`cargo build -p actix-kafka-cli
//! --message-format=json`) and takes its path from cargo's artifact message,
//! which works whatever the target directory is.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use actix_kafka_integration::repo_root;

/// How long one CLI run may take before the test fails.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// The path of the `actix-kafka` binary, built once per test process.
pub fn cli_binary() -> &'static PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let mut build = Command::new(env!("CARGO"));
        build
            .current_dir(repo_root())
            .args(["build", "-q", "-p", "actix-kafka-cli", "--bin", "actix-kafka"])
            .arg("--message-format=json-render-diagnostics")
            .stderr(Stdio::inherit());
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let output = build.output().expect("cannot run cargo");
        assert!(output.status.success(), "building actix-kafka-cli failed");
        let messages = String::from_utf8_lossy(&output.stdout);
        messages
            .lines()
            .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
            .find_map(executable_of)
            .unwrap_or_else(|| panic!("no executable in cargo's messages:\n{messages}"))
    })
}

/// The `"executable"` of one cargo JSON message, if it has one.
fn executable_of(message: &str) -> Option<PathBuf> {
    const FIELD: &str = r#""executable":""#;
    let start = message.find(FIELD)? + FIELD.len();
    let end = start + message[start..].find('"')?;
    let path = message[start..end].replace(r"\\", r"\");
    Some(PathBuf::from(path))
}

/// Runs the CLI with `args`, feeding it `stdin`; fails the test after
/// [`RUN_TIMEOUT`] (killing the process).
pub fn run_cli(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(cli_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start actix-kafka");
    let pid = child.id();
    let mut input = child.stdin.take().expect("piped stdin");
    // A run that refuses its arguments exits without reading stdin; the
    // caller's assertions on its status and output are what count then.
    if let Err(e) = input.write_all(stdin) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "cannot write stdin: {e}"
        );
    }
    drop(input);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(RUN_TIMEOUT) {
        Ok(output) => output.expect("cannot wait for actix-kafka"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("actix-kafka {args:?} did not finish within {RUN_TIMEOUT:?}");
        }
    }
}
