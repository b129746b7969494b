// Command bench_franz is a producer load generator on franz-go (kgo) that prints the
// summary line of Kafka's kafka-producer-perf-test, so scripts/bench.py can compare it
// with actix-kafka perf, Kafka's ProducerPerformance, librdkafka and aiokafka.
//
// It sends -num-records keyless records to -topic; every value is the same string of
// -record-size random upper-case letters, generated once, as ProducerPerformance does.
// Each record is handed to Client.Produce, which blocks only while the client's buffer is
// full; a promise records the record's latency (from just before Produce until the
// promise runs). Throughput counts acknowledged records from the first Produce until the
// last promise. The final line:
//
//	N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
//	P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th.
//
// MB are 2^20 bytes of values; percentiles are whole milliseconds, truncated, as in
// Kafka's tool. The exit status is 1 when a record failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	topic := flag.String("topic", "", "topic to produce to")
	numRecords := flag.Int("num-records", 0, "records to produce")
	recordSize := flag.Int("record-size", 100, "value size in bytes")
	bootstrap := flag.String("bootstrap-server", "127.0.0.1:9092", "brokers, comma-separated")
	acks := flag.String("acks", "1", "1 or all")
	compression := flag.String("compression", "none", "none, gzip, snappy, lz4 or zstd")
	batchSize := flag.Int("batch-size", 16384, "batch.size: largest batch in bytes")
	lingerMs := flag.Int("linger-ms", 0, "linger.ms")
	bufferMemory := flag.Int("buffer-memory", 33554432, "most bytes of records buffered")
	idempotent := flag.Bool("idempotent", false, "idempotent writes (needs -acks all)")
	seed := flag.Int64("random-seed", 0, "seed of the value")
	flag.Parse()
	if *topic == "" || *numRecords <= 0 {
		fmt.Fprintln(os.Stderr, "bench_franz: -topic and a positive -num-records are required")
		os.Exit(2)
	}

	opts := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*bootstrap, ",")...),
		kgo.ClientID("perf-producer-client"),
		kgo.DefaultProduceTopic(*topic),
		kgo.ProducerBatchMaxBytes(int32(*batchSize)),
		kgo.ProducerLinger(time.Duration(*lingerMs) * time.Millisecond),
		kgo.MaxBufferedBytes(*bufferMemory),
	}
	switch *acks {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	default:
		fmt.Fprintf(os.Stderr, "bench_franz: -acks must be 1 or all, not %q\n", *acks)
		os.Exit(2)
	}
	if !*idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	codec, ok := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}[*compression]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench_franz: unknown compression %q\n", *compression)
		os.Exit(2)
	}
	opts = append(opts, kgo.ProducerBatchCompression(codec))

	client, err := kgo.NewClient(opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench_franz: cannot start the client: %v\n", err)
		os.Exit(1)
	}
	defer client.Close()

	rng := rand.New(rand.NewSource(*seed))
	value := make([]byte, *recordSize)
	for i := range value {
		value[i] = byte('A' + rng.Intn(26))
	}

	// One slot per record: each promise writes only its own, so no lock is needed.
	latencies := make([]int64, *numRecords)
	var acked, failed atomic.Int64
	var firstError atomic.Value
	var done sync.WaitGroup
	done.Add(*numRecords)
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < *numRecords; i++ {
		i := i
		sent := time.Now()
		client.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
				firstError.CompareAndSwap(nil, err.Error())
				latencies[i] = -1
			} else {
				latencies[i] = time.Since(sent).Microseconds()
				acked.Add(1)
			}
			done.Done()
		})
	}
	done.Wait()
	elapsed := time.Since(start).Seconds()

	delivered := latencies[:0]
	for _, l := range latencies {
		if l >= 0 {
			delivered = append(delivered, l)
		}
	}
	sort.Slice(delivered, func(a, b int) bool { return delivered[a] < delivered[b] })
	count := len(delivered)
	var sum int64
	for _, l := range delivered {
		sum += l
	}
	percentile := func(f float64) int64 {
		if count == 0 {
			return 0
		}
		i := int(float64(count) * f)
		if i >= count {
			i = count - 1
		}
		return delivered[i] / 1000
	}
	avg, max := 0.0, 0.0
	if count > 0 {
		avg = float64(sum) / float64(count) / 1000
		max = float64(delivered[count-1]) / 1000
	}
	rate := float64(count) / elapsed
	fmt.Printf("%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, "+
		"%d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		count, rate, rate*float64(*recordSize)/(1024*1024), avg, max,
		percentile(0.5), percentile(0.95), percentile(0.99), percentile(0.999))
	if n := failed.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "bench_franz: %d record(s) failed; first: %v\n", n, firstError.Load())
		os.Exit(1)
	}
}
