#!/usr/bin/env python3
"""A producer load generator on aiokafka that prints Kafka's perf-test summary line.

It mirrors `kafka-producer-perf-test` (org.apache.kafka.tools.ProducerPerformance) and
`actix-kafka perf` closely enough for scripts/bench.py to compare them:

* `--num-records` keyless records of `--record-size` bytes go to `--topic`; the value is
  one string of random upper-case letters (seeded), generated once and shared by every
  record, as both of those tools do;
* each record is handed over with `await producer.send(...)`, which only waits for the
  record to be enqueued (aiokafka keeps one open batch per partition and makes `send`
  wait while it is full); its delivery future is not awaited there, a done-callback
  records the latency instead, and at most `--max-outstanding` deliveries may be pending
  at once;
* latency runs from just before `send` until the delivery future completes; throughput
  counts acknowledged records from the first send to the last acknowledgement;
* the final line has Kafka's format:

  N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
  P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th.

  with MB = 2^20 bytes of values and whole-millisecond percentiles (truncated, as
  Kafka's are).

Only the Python standard library and aiokafka are used. Exit status 1 when a record
failed.
"""

import argparse
import asyncio
import random
import sys
import time

from aiokafka import AIOKafkaProducer


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--topic", required=True)
    p.add_argument("--num-records", type=int, required=True)
    p.add_argument("--record-size", type=int, required=True)
    p.add_argument("--bootstrap-server", default="127.0.0.1:9092")
    p.add_argument("--acks", default="1", help="0, 1 or all")
    p.add_argument("--compression", default="none", help="none, gzip, snappy, lz4 or zstd")
    p.add_argument("--batch-size", type=int, default=16384, help="max_batch_size in bytes")
    p.add_argument("--linger-ms", type=int, default=0)
    p.add_argument("--idempotent", action="store_true", help="enable_idempotence=True")
    p.add_argument("--max-outstanding", type=int, default=100_000,
                   help="most deliveries pending at once")
    p.add_argument("--random-seed", type=int, default=0)
    return p.parse_args(argv)


def percentile_ms(sorted_us, fraction):
    """Kafka's percentile: the value at index int(n * fraction), in whole ms."""
    if not sorted_us:
        return 0
    index = min(int(len(sorted_us) * fraction), len(sorted_us) - 1)
    return int(sorted_us[index] // 1000)


class Collector:
    """Records each delivery as it completes and wakes the sender when room frees up."""

    def __init__(self, record_size, max_outstanding):
        self.record_size = record_size
        self.max_outstanding = max_outstanding
        self.latencies_us = []
        self.failed = 0
        self.first_error = None
        self.outstanding = 0
        self.last_ack = None
        self.room = asyncio.Event()
        self.room.set()
        self.all_done = asyncio.Event()
        self.sending = True

    def delivered(self, started, future):
        now = time.perf_counter()
        if future.cancelled() or future.exception() is not None:
            self.failed += 1
            if self.first_error is None:
                self.first_error = "cancelled" if future.cancelled() else repr(future.exception())
        else:
            self.latencies_us.append((now - started) * 1e6)
            self.last_ack = now
        self.outstanding -= 1
        if self.outstanding < self.max_outstanding:
            self.room.set()
        if not self.sending and self.outstanding == 0:
            self.all_done.set()


async def run(args):
    rng = random.Random(args.random_seed)
    value = bytes(rng.randrange(65, 91) for _ in range(args.record_size))
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap_server,
        client_id="perf-producer-client",
        acks="all" if args.acks in ("all", "-1") else int(args.acks),
        compression_type=None if args.compression == "none" else args.compression,
        max_batch_size=args.batch_size,
        linger_ms=args.linger_ms,
        enable_idempotence=args.idempotent,
    )
    await producer.start()
    collector = Collector(args.record_size, args.max_outstanding)
    start = time.perf_counter()
    try:
        for _ in range(args.num_records):
            if collector.outstanding >= args.max_outstanding:
                collector.room.clear()
                await collector.room.wait()
            started = time.perf_counter()
            future = await producer.send(args.topic, value)
            collector.outstanding += 1
            future.add_done_callback(lambda f, s=started: collector.delivered(s, f))
        collector.sending = False
        if collector.outstanding > 0:
            await collector.all_done.wait()
    finally:
        await producer.stop()

    latencies = collector.latencies_us
    count = len(latencies)
    end = collector.last_ack or time.perf_counter()
    elapsed = max(end - start, 1e-9)
    latencies.sort()
    rate = count / elapsed
    mb = rate * args.record_size / (1024 * 1024)
    avg_ms = sum(latencies) / count / 1000 if count else 0.0
    max_ms = latencies[-1] / 1000 if count else 0.0
    print(
        f"{count} records sent, {rate:f} records/sec ({mb:.2f} MB/sec), "
        f"{avg_ms:.2f} ms avg latency, {max_ms:.2f} ms max latency, "
        f"{percentile_ms(latencies, 0.5)} ms 50th, {percentile_ms(latencies, 0.95)} ms 95th, "
        f"{percentile_ms(latencies, 0.99)} ms 99th, {percentile_ms(latencies, 0.999)} ms 99.9th.",
        flush=True,
    )
    if collector.failed:
        print(f"bench_aiokafka: {collector.failed} record(s) failed; first: {collector.first_error}",
              file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
