//! An actix-web service that produces one record per HTTP request.
//!
//! `POST /events/{key}` produces the request body as the value of a record
//! keyed `{key}`, and answers with where Kafka wrote it:
//! `{"topic":"my_topic","partition":0,"offset":42}`. Errors answer 503 with
//! `{"error":"..."}`.
//!
//! The producer's actors live in the server's main `System`; the HTTP workers
//! (one thread each) talk to them through the actor address with
//! `addr.send(Produce(record))`, which answers once the broker acknowledged
//! the record. (The `Producer` facade is `Clone + Send` too; `send_and_wait`
//! does the same.)
//!
//! On Ctrl-C or SIGTERM the server stops taking requests and finishes those it
//! has, then the producer flushes and stops. `--requests N` does the same
//! after N requests (used by the integration test).
//!
//! Run it against a local broker (`scripts/kafka.sh up`) and post to it:
//!
//! ```text
//! cargo run -p actix-kafka-examples --bin actix_web_service -- --topic my_topic --port 8080
//! curl -X POST --data 'hello' http://127.0.0.1:8080/events/user-1
//! ```

use actix::Addr;
use actix_kafka::{Produce, Producer, ProducerActor, ProducerConfig, ProducerRecord};
use actix_web::{post, web, App, HttpResponse, HttpServer};
use clap::Parser;
use serde_json::json;
use tokio::sync::mpsc;

/// Serves `POST /events/{key}` on 127.0.0.1.
#[derive(Parser)]
struct Args {
    /// Brokers to bootstrap from, comma-separated.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap_servers: String,
    /// Topic to produce to.
    #[arg(long, default_value = "my_topic")]
    topic: String,
    /// Port to listen on (0 picks a free one; the address is printed).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Stop after serving this many requests (default: run until Ctrl-C).
    #[arg(long)]
    requests: Option<usize>,
}

/// What every worker's handlers share.
struct AppState {
    producer: Addr<ProducerActor>,
    topic: String,
    /// One message per request served, for `--requests`.
    served: mpsc::UnboundedSender<()>,
}

#[post("/events/{key}")]
async fn produce_event(state: web::Data<AppState>, key: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let record = ProducerRecord::new(state.topic.as_str(), body).key(key.into_inner());
    // Produce → Ack: the answer comes once the broker wrote the record.
    let response = match state.producer.send(Produce(record)).await {
        Ok(Ok(ack)) => HttpResponse::Ok().json(json!({
            "topic": &*ack.topic,
            "partition": ack.partition,
            "offset": ack.offset,
        })),
        Ok(Err(error)) => HttpResponse::ServiceUnavailable().json(json!({ "error": error.to_string() })),
        Err(mailbox) => HttpResponse::ServiceUnavailable().json(json!({ "error": mailbox.to_string() })),
    };
    let _ = state.served.send(());
    response
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let producer = Producer::start(ProducerConfig::new(args.bootstrap_servers))
        .await
        .map_err(std::io::Error::other)?;

    let (served, mut served_rx) = mpsc::unbounded_channel();
    let state = web::Data::new(AppState {
        producer: producer.addr().clone(),
        topic: args.topic,
        served,
    });
    let server = HttpServer::new(move || App::new().app_data(state.clone()).service(produce_event))
        .bind(("127.0.0.1", args.port))?
        .shutdown_timeout(5);
    for addr in server.addrs() {
        println!("listening on http://{addr} (pid {})", std::process::id());
    }
    let server = server.run();

    if let Some(limit) = args.requests {
        let handle = server.handle();
        actix_rt::spawn(async move {
            for _ in 0..limit {
                if served_rx.recv().await.is_none() {
                    return;
                }
            }
            // Graceful: the responses in progress are still written.
            handle.stop(true).await;
        });
    }

    server.await?;
    // Deliver whatever is still buffered before exiting.
    producer.stop().await;
    println!("stopped");
    Ok(())
}
