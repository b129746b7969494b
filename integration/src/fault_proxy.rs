//! A TCP proxy that misbehaves on command, between the producer and a
//! broker (fake or real), for the network faults a broker will not produce
//! itself.
//!
//! [`FaultProxy::start`] listens on a free port of 127.0.0.1 and forwards
//! every connection to its target; [`FaultProxy::set`] switches what it does
//! to the bytes from then on, on every connection:
//!
//! | [`Mode`] | what the producer sees |
//! |---|---|
//! | `Pass` | a normal network |
//! | `Blackhole` | bytes vanish both ways; sockets stay open, no RST (a dead link or a frozen host) |
//! | `Reset` | every open connection is reset (RST), and new ones at once |
//! | `Delay(d)` | each chunk waits `d` before it is forwarded, both ways |
//! | `Bandwidth(bytes/s)` | both ways throttled to that rate |
//! | `Trickle(every)` | one byte per `every`, both ways |
//! | `Cut { after }` | the broker's next `after` bytes pass, then nothing more (a response cut in half) |
//!
//! It runs its own single-threaded tokio runtime on a thread, so it works
//! under any test harness; dropping it closes every socket and joins the
//! thread. Loopback only.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

/// What the proxy does to the bytes. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward.
    Pass,
    /// Read and drop, both ways; keep the sockets open.
    Blackhole,
    /// Reset every connection (and refuse new ones the same way).
    Reset,
    /// Hold each chunk this long, both ways.
    Delay(Duration),
    /// At most this many bytes per second, each way.
    Bandwidth(u64),
    /// One byte per this interval, each way.
    Trickle(Duration),
    /// Forward this many more bytes from the broker, then none; the client's
    /// bytes still pass.
    Cut {
        /// Bytes still forwarded towards the client.
        after: usize,
    },
}

/// Which way bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Client to broker.
    Up,
    /// Broker to client.
    Down,
}

/// See the module documentation.
pub struct FaultProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    /// Bytes left for `Mode::Cut`, shared by every connection.
    cut_budget: Arc<Mutex<usize>>,
    accepted: Arc<Mutex<usize>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on a free loopback port, forwarding to `target` (`host:port`).
    pub fn start(target: &str) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("the proxy's address");
        let (mode, modes) = watch::channel(Mode::Pass);
        let cut_budget = Arc::new(Mutex::new(0usize));
        let accepted = Arc::new(Mutex::new(0usize));
        let (stop, stopped) = oneshot::channel::<()>();
        let target = target.to_string();
        let (budget, count) = (cut_budget.clone(), accepted.clone());
        let thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fault proxy runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        _ = accept_loop(listener, target, modes, budget, count) => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("spawn the fault proxy");
        FaultProxy {
            addr,
            mode,
            cut_budget,
            accepted,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The proxy's `host:port`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// The proxy's port (to advertise it in place of the broker's).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Switches the mode for every connection, from now on.
    pub fn set(&self, mode: Mode) {
        if let Mode::Cut { after } = mode {
            *self.cut_budget.lock().expect("cut budget") = after;
        }
        self.mode.send_replace(mode);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        *self.accepted.lock().expect("accepted count")
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: String,
    modes: watch::Receiver<Mode>,
    cut_budget: Arc<Mutex<usize>>,
    accepted: Arc<Mutex<usize>>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        *accepted.lock().expect("accepted count") += 1;
        if *modes.borrow() == Mode::Reset {
            reset(client);
            continue;
        }
        let Ok(server) = TcpStream::connect(&target).await else {
            reset(client);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let up = pump(
            client_read,
            server_write,
            Direction::Up,
            modes.clone(),
            cut_budget.clone(),
        );
        let down = pump(
            server_read,
            client_write,
            Direction::Down,
            modes.clone(),
            cut_budget.clone(),
        );
        tokio::spawn(async move {
            // Either side ending (or a reset) ends the connection: the other
            // pump is dropped with its halves, which closes both sockets.
            tokio::select! {
                () = up => {}
                () = down => {}
            }
        });
    }
}

/// Closes `stream` with an RST instead of a FIN.
fn reset(stream: TcpStream) {
    // A zero linger closes with an RST at once (it never blocks).
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Moves bytes one way as the mode says, until the stream ends or the mode
/// asks for a reset (then the client's socket is set to close with an RST).
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    direction: Direction,
    mut modes: watch::Receiver<Mode>,
    cut_budget: Arc<Mutex<usize>>,
) {
    let reset_client = |from: &OwnedReadHalf, to: &OwnedWriteHalf| {
        let client: &TcpStream = match direction {
            Direction::Up => from.as_ref(),
            Direction::Down => to.as_ref(),
        };
        // A zero linger closes with an RST at once (it never blocks).
        #[allow(deprecated)]
        let _ = client.set_linger(Some(Duration::ZERO));
    };
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let mode = *modes.borrow_and_update();
        if mode == Mode::Reset {
            return reset_client(&from, &to);
        }
        let limit = match mode {
            Mode::Trickle(_) => 1,
            _ => buffer.len(),
        };
        let n = tokio::select! {
            read = from.read(&mut buffer[..limit]) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = modes.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        };
        let chunk = &buffer[..n];
        // Copied out: the watch guard must not be held across an await.
        let mode = *modes.borrow();
        let forward: &[u8] = match mode {
            Mode::Pass => chunk,
            Mode::Blackhole => &[],
            Mode::Reset => return reset_client(&from, &to),
            Mode::Delay(delay) => {
                tokio::time::sleep(delay).await;
                chunk
            }
            Mode::Bandwidth(bytes_per_second) => {
                let seconds = n as f64 / bytes_per_second.max(1) as f64;
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                chunk
            }
            Mode::Trickle(every) => {
                tokio::time::sleep(every).await;
                chunk
            }
            Mode::Cut { .. } if direction == Direction::Up => chunk,
            Mode::Cut { .. } => {
                let take = {
                    let mut budget = cut_budget.lock().expect("cut budget");
                    let take = (*budget).min(n);
                    *budget -= take;
                    take
                };
                &chunk[..take]
            }
        };
        if !forward.is_empty() && to.write_all(forward).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream as StdStream;

    use super::*;

    /// An echo server on a free port; returns its address.
    fn echo() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(8) {
                let Ok(mut stream) = stream else { continue };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    fn client(proxy: &FaultProxy) -> StdStream {
        let stream = StdStream::connect(proxy.addr()).unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        stream
    }

    #[test]
    fn passes_then_blackholes_then_passes_again() {
        let proxy = FaultProxy::start(&echo());
        let mut c = client(&proxy);
        c.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");

        proxy.set(Mode::Blackhole);
        c.write_all(b"lost").unwrap();
        let error = c.read(&mut buf).unwrap_err();
        assert!(matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ));

        proxy.set(Mode::Pass);
        c.write_all(b"back").unwrap();
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"back", "the blackholed bytes never arrive");
        assert_eq!(proxy.connections(), 1);
    }

    #[test]
    fn cut_forwards_only_the_first_bytes_of_the_answer() {
        let proxy = FaultProxy::start(&echo());
        let mut c = client(&proxy);
        proxy.set(Mode::Cut { after: 3 });
        c.write_all(b"abcdef").unwrap();
        let mut buf = [0u8; 6];
        let mut got = Vec::new();
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"abc");
    }

    #[test]
    fn reset_resets_open_and_new_connections() {
        let proxy = FaultProxy::start(&echo());
        let mut c = client(&proxy);
        c.write_all(b"x").unwrap();
        let mut buf = [0u8; 1];
        c.read_exact(&mut buf).unwrap();
        proxy.set(Mode::Reset);
        // The reset is noticed on the next read or write.
        std::thread::sleep(Duration::from_millis(100));
        let _ = c.write_all(b"y");
        let failed = c.read(&mut buf).map(|n| n == 0).unwrap_or(true);
        assert!(failed, "the connection was reset");
        let mut again = client(&proxy);
        let _ = again.write_all(b"z");
        let failed = again.read(&mut buf).map(|n| n == 0).unwrap_or(true);
        assert!(failed, "a new connection is reset too");
    }

    #[test]
    fn delay_and_trickle_slow_the_bytes_down() {
        let proxy = FaultProxy::start(&echo());
        let mut c = client(&proxy);
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        proxy.set(Mode::Delay(Duration::from_millis(200)));
        let started = std::time::Instant::now();
        c.write_all(b"slow").unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(400), "200 ms each way");

        proxy.set(Mode::Trickle(Duration::from_millis(50)));
        let started = std::time::Instant::now();
        c.write_all(b"abcd").unwrap();
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"abcd");
        // Four bytes at 50 ms each; the way back overlaps the way there.
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "{:?}",
            started.elapsed()
        );
    }
}
