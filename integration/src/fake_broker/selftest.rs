//! Self-tests of the connection-level faults, over a plain blocking socket
//! (no client library in the way): what exactly reaches the wire.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{FakeCluster, FakeConfig, Fault};

/// ApiVersions v0 with correlation id 7 and a null client id.
const API_VERSIONS_V0: [u8; 14] = [0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 7, 0xff, 0xff];
const API_VERSIONS: i16 = 18;

fn connect(cluster: &FakeCluster) -> TcpStream {
    let stream = TcpStream::connect(cluster.socket_addr(0)).expect("connect to the fake");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    stream
}

/// Reads one size-prefixed frame; returns its body.
fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).expect("frame size");
    let mut body = vec![0u8; usize::try_from(i32::from_be_bytes(size)).expect("positive size")];
    stream.read_exact(&mut body).expect("frame body");
    body
}

fn with_fault(fault: Fault) -> (FakeCluster, TcpStream) {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(1));
    cluster.script(0, API_VERSIONS, None, fault, 1);
    let mut stream = connect(&cluster);
    stream.write_all(&API_VERSIONS_V0).expect("send the request");
    (cluster, stream)
}

#[test]
fn answer_twice_sends_the_same_response_twice() {
    let (_cluster, mut stream) = with_fault(Fault::AnswerTwice);
    let first = read_frame(&mut stream);
    let second = read_frame(&mut stream);
    assert_eq!(first[..4], 7i32.to_be_bytes(), "the request's correlation id");
    assert_eq!(first, second);
}

#[test]
fn raw_frame_then_close_writes_the_bytes_then_ends_the_stream() {
    let (_cluster, mut stream) = with_fault(Fault::RawFrameThenClose(vec![0, 0, 0, 100, 1, 2]));
    let mut received = Vec::new();
    stream.read_to_end(&mut received).expect("read until the close");
    assert_eq!(received, [0, 0, 0, 100, 1, 2]);
}

#[test]
fn trickle_spaces_the_bytes_out() {
    let interval = Duration::from_millis(20);
    let (_cluster, mut stream) = with_fault(Fault::Trickle(interval));
    let started = Instant::now();
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).expect("frame size");
    assert!(
        started.elapsed() >= interval * 3,
        "four bytes took only {:?}",
        started.elapsed()
    );
    let mut body = vec![0u8; usize::try_from(i32::from_be_bytes(size)).expect("positive size")];
    stream.read_exact(&mut body).expect("the whole answer arrives");
    assert_eq!(body[..4], 7i32.to_be_bytes());
}

#[test]
fn delete_topic_forgets_the_topic_and_its_log() {
    let cluster = FakeCluster::start(FakeConfig::with_brokers(1).topic("t", 2, 0));
    assert_eq!(cluster.next_offset("t", 1), Some(0));
    cluster.delete_topic("t");
    assert_eq!(cluster.next_offset("t", 1), None);
    assert_eq!(cluster.leader("t", 0), None);
}
