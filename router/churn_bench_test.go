package router

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/services"
)

// BenchmarkFanoutUnderChurn measures the fan-out of a channel with one
// subscription while another channel with 100,000 subscriptions is fanned
// out without pause and one of its subscriptions joins and leaves it
// without pause. A subscribe on one channel must not delay deliveries on
// another: the small channel's p99 stays in microseconds.
//
//	go test -run '^$' -bench FanoutUnderChurn -benchtime 2000x ./router/
func BenchmarkFanoutUnderChurn(b *testing.B) {
	for _, churn := range []bool{false, true} {
		b.Run("churn="+strconv.FormatBool(churn), func(b *testing.B) {
			bf := newBenchFanout(b, &services.Service{}, 100_000, nil)
			h := bf.h
			h.up.Store(true)
			small := bf.addChannel(b, "bench.small", 1, &services.Service{}, nil)
			bigMsg := &redis.Message{Channel: bf.key, Payload: benchPayload("")(0)}
			smallMsg := &redis.Message{Channel: small.key, Payload: `{"subscription":"bench.small","data":1}`}

			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the big channel's fan-out worker
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						h.fanout(bigMsg)
					}
				}
			}()
			if churn {
				wg.Add(1)
				go func() { // one client subscribing and unsubscribing
					defer wg.Done()
					s := bf.sessions[0]
					for {
						select {
						case <-stop:
							return
						default:
						}
						sub := newSubscription(s, "bench.t", "bench", &services.Service{}, &fieldSet{})
						ch, err := h.join("bench.t", sub, false)
						if err != nil {
							b.Error(err)
							return
						}
						h.remove(ch, sub)
					}
				}()
			}

			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				h.fanout(smallMsg)
				took = append(took, time.Since(start))
				time.Sleep(100 * time.Microsecond) // sample across the big fan-outs
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			for _, s := range bf.sessions {
				s.out.close()
				s.out.wait()
			}
			slices.Sort(took)
			q := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) }
			b.ReportMetric(q(0.5), "p50-µs")
			b.ReportMetric(q(0.99), "p99-µs")
			b.ReportMetric(q(1), "max-µs")
		})
	}
}
