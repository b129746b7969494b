//! The background runtime: listeners, connections and request framing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use super::handlers::{handle_frame, Action, Connection};
use super::state::State;
use super::{FakeCluster, FakeConfig, Shared};

/// How long shutdown waits for the runtime's tasks.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) fn start(config: FakeConfig) -> FakeCluster {
    let mut listeners = Vec::new();
    for i in 0..config.brokers {
        let id = config.first_node_id + i32::try_from(i).expect("broker count fits in i32");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("fake broker: bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("fake broker: non-blocking listener");
        let addr = listener.local_addr().expect("fake broker: listener address");
        listeners.push((id, addr, listener));
    }
    let nodes: Vec<_> = listeners.iter().map(|(id, addr, _)| (*id, *addr)).collect();
    let shared = Arc::new(Shared {
        state: Mutex::new(State::new(
            config,
            nodes.iter().map(|(id, addr)| (*id, addr.port())).collect(),
        )),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("fake broker: tokio runtime");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let mut kills = Vec::new();
    let mut serving = Vec::new();
    for (id, _, listener) in listeners {
        let (kill_tx, kill_rx) = watch::channel(0u64);
        kills.push((id, kill_tx));
        serving.push((id, listener, kill_rx));
    }
    let thread_shared = shared.clone();
    let thread = std::thread::Builder::new()
        .name("fake-kafka-broker".into())
        .spawn(move || {
            runtime.block_on(async move {
                for (id, listener, kill_rx) in serving {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            tokio::spawn(accept_loop(thread_shared.clone(), id, listener, kill_rx));
                        }
                        Err(e) => tracing::error!("fake broker {id}: cannot serve its listener: {e}"),
                    }
                }
                // Runs until the cluster is stopped (or dropped: the sender goes away).
                let _ = stop_rx.await;
            });
            // Dropping the runtime cancels every connection task and closes its socket.
            runtime.shutdown_timeout(SHUTDOWN_TIMEOUT);
        })
        .expect("fake broker: spawn thread");
    FakeCluster {
        shared,
        nodes,
        kills,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

async fn accept_loop(shared: Arc<Shared>, node: i32, listener: TcpListener, kill: watch::Receiver<u64>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tracing::debug!("fake broker {node}: connection from {peer}");
                let number = shared.lock().connection_opened(node);
                let shared = shared.clone();
                let mut kill = kill.clone();
                kill.mark_unchanged();
                tokio::spawn(async move {
                    serve_connection(&shared, node, Connection::new(number), stream, kill).await;
                    shared.lock().connection_closed(node);
                });
            }
            Err(e) => {
                tracing::warn!("fake broker {node}: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn serve_connection(
    shared: &Shared,
    node: i32,
    mut connection: Connection,
    stream: TcpStream,
    mut kill: watch::Receiver<u64>,
) {
    let _ = stream.set_nodelay(true);
    let max_frame = shared.lock().config.max_frame_bytes;
    let (mut reader, mut writer) = stream.into_split();
    loop {
        let frame = tokio::select! {
            biased;
            _ = kill.changed() => return,
            frame = read_frame(&mut reader, max_frame) => frame,
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("fake broker {node}: closing connection: {e}");
                return;
            }
        };
        let outcome = handle_frame(shared, node, &mut connection, frame);
        if !outcome.delay.is_zero() {
            tokio::select! {
                biased;
                _ = kill.changed() => return,
                _ = tokio::time::sleep(outcome.delay) => {}
            }
        }
        match outcome.action {
            Action::Write(bytes) => {
                if let Err(e) = writer.write_all(&bytes).await {
                    tracing::debug!("fake broker {node}: write failed: {e}");
                    return;
                }
            }
            Action::WriteThenClose(bytes) => {
                if let Err(e) = writer.write_all(&bytes).await {
                    tracing::debug!("fake broker {node}: write failed: {e}");
                }
                // Flush before the drop closes the socket, so the answer arrives.
                let _ = writer.shutdown().await;
                return;
            }
            Action::Nothing => {}
            Action::Close => return,
            Action::StopReading => {
                let _ = kill.changed().await;
                return;
            }
            Action::Trickle(bytes, interval) => {
                for byte in bytes {
                    tokio::select! {
                        biased;
                        _ = kill.changed() => return,
                        _ = tokio::time::sleep(interval) => {}
                    }
                    if writer.write_all(&[byte]).await.is_err() {
                        // The client gave up and closed: what trickling tests for.
                        return;
                    }
                }
            }
        }
    }
}

/// Reads one size-prefixed request. `Ok(None)` on a clean end of stream.
async fn read_frame(reader: &mut OwnedReadHalf, max_frame: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut size = [0u8; 4];
    let mut filled = 0;
    while filled < size.len() {
        let n = reader.read(&mut size[filled..]).await?;
        if n == 0 {
            return if filled == 0 {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        filled += n;
    }
    let size = i32::from_be_bytes(size);
    let size = usize::try_from(size)
        .ok()
        .filter(|s| *s <= max_frame)
        .ok_or_else(|| std::io::Error::other(format!("invalid request size {size}")))?;
    let mut body = vec![0u8; size];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
}
