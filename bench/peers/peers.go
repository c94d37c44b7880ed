// Peer benchmarks for troupe: the same workloads as the C++ runtime, with
// goroutines and channels. Single file, standard library only; run.sh builds
// it with GO111MODULE=off. Usage:
//
//	peers-go WORKLOAD [key=value...]
//
// Each run prints one line:
//
//	PEER lang=go workload=NAME key=value ...
//
// Fairness note: a channel that stands in for an actor's mailbox is given
// enough buffer that a sender never blocks, like an (unbounded) Erlang or
// troupe mailbox (fairness's ping-pong pair is the exception: it uses
// unbuffered channels). link_exit and monitor_down have no Go equivalent.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type kv struct {
	k string
	v interface{}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peers-go WORKLOAD [key=value...]")
		os.Exit(2)
	}
	workload := os.Args[1]
	opts := map[string]int{}
	for _, a := range os.Args[2:] {
		k, v, ok := strings.Cut(a, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			fmt.Fprintf(os.Stderr, "peers-go: bad argument %q\n", a)
			os.Exit(2)
		}
		opts[k] = n
	}
	opt := func(k string, def int) int {
		if v, ok := opts[k]; ok {
			return v
		}
		return def
	}
	if s := opt("schedulers", 0); s > 0 {
		runtime.GOMAXPROCS(s)
	}

	var params, results []kv
	switch workload {
	case "spawn":
		n := opt("n", 1000000)
		params = []kv{{"n", n}}
		results = spawnBench(n)
	case "spawn_exit":
		n := opt("n", 1000000)
		params = []kv{{"n", n}}
		t := spawnExit(n)
		results = []kv{{"seconds", t.Seconds()}, {"per_sec", rate(n, t)}}
	case "ring":
		n, rounds, tokens := opt("n", 10000), opt("rounds", 100), opt("tokens", 1)
		params = []kv{{"n", n}, {"rounds", rounds}, {"tokens", tokens}}
		t := ring(n, rounds, tokens)
		results = []kv{{"msgs_per_sec", rate(n*rounds*tokens, t)}, {"seconds", t.Seconds()}}
	case "pingpong":
		n := opt("n", 1000000)
		params = []kv{{"n", n}}
		t := pingpong(n)
		results = []kv{{"ns_per_roundtrip", float64(t.Nanoseconds()) / float64(n)}}
	case "skynet":
		n := opt("n", 1000000)
		params = []kv{{"n", n}}
		start := time.Now()
		c := make(chan int, 1)
		go skynet(c, 0, n, 10)
		sum := <-c
		results = []kv{{"sum", sum}, {"seconds", time.Since(start).Seconds()}}
	case "fanin":
		senders, msgs := opt("senders", 1000), opt("msgs", 1000)
		params = []kv{{"senders", senders}, {"msgs", msgs}}
		t := fanin(senders, msgs)
		results = []kv{{"msgs_per_sec", rate(senders*msgs, t)}, {"seconds", t.Seconds()}}
	case "throw_catch":
		// traces=0: panic/recover; traces=1: the recovering function also
		// takes the panic point's stack with runtime.Callers (trace_depth
		// frames), as troupe records it.
		n, depth, traces, traceDepth := opt("n", 100000), opt("depth", 10), opt("traces", 1), opt("trace_depth", 32)
		if traces == 0 {
			traceDepth = 0
		}
		params = []kv{{"n", n}, {"depth", depth}, {"traces", traces}, {"trace_depth", traceDepth}}
		throwCatch(n/100+1, depth, traceDepth) // warm-up
		t := throwCatch(n, depth, traceDepth)
		results = []kv{{"seconds", t.Seconds()}, {"ns_per_throw", float64(t.Nanoseconds()) / float64(n)}}
	case "genserver_call":
		n, clients, backlog := opt("n", 1000000), opt("clients", 1), opt("backlog", 0)
		params = []kv{{"n", n}, {"clients", clients}, {"backlog", backlog}}
		t := genserverCall(n, clients, backlog)
		results = []kv{{"calls_per_sec", rate(n*clients, t)}, {"seconds", t.Seconds()}}
	case "genserver_idle":
		n := opt("n", 1000000)
		params = []kv{{"n", n}}
		t, bytes := genserverIdle(n)
		results = []kv{{"start_seconds", t.Seconds()}, {"bytes_per_server", bytes}}
	case "supervisor_restart":
		n := opt("n", 20000)
		params = []kv{{"n", n}}
		t := supervisorRestart(n)
		results = []kv{{"restarts_per_sec", rate(n, t)}, {"seconds", t.Seconds()}}
	case "fairness":
		n, hogs := opt("n", 20000), opt("hogs", 4)
		params = []kv{{"n", n}, {"hogs", hogs}}
		p50, p99, max := fairness(n, hogs)
		results = []kv{{"p50_ns", p50}, {"p99_ns", p99}, {"max_ns", max}}
	default:
		fmt.Fprintf(os.Stderr, "peers-go: unsupported workload %q\n", workload)
		os.Exit(2)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "PEER lang=go workload=%s", workload)
	for _, p := range append(append(params, kv{"schedulers", runtime.GOMAXPROCS(0)}), results...) {
		switch v := p.v.(type) {
		case int:
			fmt.Fprintf(&b, " %s=%d", p.k, v)
		case float64:
			if v >= 100 {
				fmt.Fprintf(&b, " %s=%.1f", p.k, v)
			} else {
				fmt.Fprintf(&b, " %s=%.6f", p.k, v)
			}
		}
	}
	fmt.Println(b.String())
}

func rate(count int, d time.Duration) int {
	return int(float64(count) / d.Seconds())
}

// rss returns the resident set size in bytes from /proc/self/statm, the same
// source the Erlang and C++ benchmarks use.
func rss() int {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	pages, _ := strconv.Atoi(strings.Fields(string(data))[1])
	return pages * os.Getpagesize()
}

// spawn: n goroutines, each blocked receiving on its own channel (its
// "mailbox"); then each is told to exit by closing that channel.
func spawnBench(n int) []kv {
	var ready, exited sync.WaitGroup
	ready.Add(n)
	exited.Add(n)
	mailboxes := make([]chan struct{}, n)
	rss0 := rss()
	start := time.Now()
	for i := range mailboxes {
		mb := make(chan struct{})
		mailboxes[i] = mb
		go func() {
			ready.Done() // about to block, like Erlang's `ready` message
			<-mb
			exited.Done()
		}()
	}
	ready.Wait()
	spawned := time.Since(start)
	rss1 := rss()
	start = time.Now()
	for _, mb := range mailboxes {
		close(mb)
	}
	exited.Wait()
	return []kv{{"spawn_seconds", spawned.Seconds()},
		{"bytes_per_process", (rss1 - rss0) / n},
		{"teardown_seconds", time.Since(start).Seconds()}}
}

// spawn_exit: n goroutines each send one message to the parent and exit.
func spawnExit(n int) time.Duration {
	start := time.Now()
	parent := make(chan struct{}, n) // mailbox: senders never block
	for i := 0; i < n; i++ {
		go func() { parent <- struct{}{} }()
	}
	for i := 0; i < n; i++ {
		<-parent
	}
	return time.Since(start)
}

// ring: a token is an int counting the hops it still has to make. Each
// mailbox has room for every token, so forwarding never blocks (and cannot
// deadlock when tokens >= n).
func ring(n, rounds, tokens int) time.Duration {
	mailboxes := make([]chan int, n)
	for i := range mailboxes {
		mailboxes[i] = make(chan int, tokens)
	}
	done := make(chan struct{}, tokens)
	for i := range mailboxes {
		go func(in, next chan int) {
			for h := range in {
				if h == 1 {
					done <- struct{}{}
				} else {
					next <- h - 1
				}
			}
		}(mailboxes[i], mailboxes[(i+1)%n])
	}
	start := time.Now()
	for i := 0; i < tokens; i++ {
		mailboxes[i*n/tokens] <- n * rounds
	}
	for i := 0; i < tokens; i++ {
		<-done
	}
	t := time.Since(start)
	for _, mb := range mailboxes {
		close(mb)
	}
	return t
}

func pingpong(n int) time.Duration {
	ping, pong := make(chan struct{}, 1), make(chan struct{}, 1)
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- struct{}{}
		<-pong
	}
	t := time.Since(start)
	close(ping)
	return t
}

func skynet(parent chan<- int, num, size, div int) {
	if size == 1 {
		parent <- num
		return
	}
	mailbox := make(chan int, div)
	sub := size / div
	for i := 0; i < div; i++ {
		go skynet(mailbox, num+i*sub, sub, div)
	}
	sum := 0
	for i := 0; i < div; i++ {
		sum += <-mailbox
	}
	parent <- sum
}

func fanin(senders, msgs int) time.Duration {
	start := time.Now()
	mailbox := make(chan int, senders*msgs) // senders never block
	for s := 0; s < senders; s++ {
		go func() {
			for i := 0; i < msgs; i++ {
				mailbox <- i
			}
		}()
	}
	for i := 0; i < senders*msgs; i++ {
		<-mailbox
	}
	return time.Since(start)
}

var errThrowCatch = errors.New("throw_catch")

// dive makes depth calls (none inlined), then panics.
//
//go:noinline
func dive(depth int) int {
	if depth == 0 {
		panic(errThrowCatch)
	}
	return dive(depth-1) + 1
}

// catchOne recovers the panic of one dive; with traceDepth > 0 it takes the
// stack of the panic point first (a deferred call runs on top of the
// panicking frames, so runtime.Callers sees them).
func catchOne(depth int, pcs []uintptr) (frames int) {
	defer func() {
		if len(pcs) > 0 {
			frames = runtime.Callers(2, pcs)
		}
		if recover() == nil {
			panic("throw_catch: nothing to recover")
		}
	}()
	dive(depth)
	return 0
}

func throwCatch(n, depth, traceDepth int) time.Duration {
	pcs := make([]uintptr, traceDepth)
	start := time.Now()
	for i := 0; i < n; i++ {
		if f := catchOne(depth, pcs); traceDepth > 0 && f == 0 {
			panic("throw_catch: no frames")
		}
	}
	return time.Since(start)
}

// callRequest is one genserver_call request: the caller's reply channel.
type callRequest struct {
	reply chan int
}

// genserver_call: one server goroutine answers requests from one channel
// with its state (a counter, always 0 here); each of clients goroutines
// makes n calls, each sending a request that carries the client's own
// (reused) reply channel and waiting for the reply. The time covers the calls
// only, from releasing the clients to the last one finishing.
//
// backlog=B: each client first fills a buffered channel of its own with B
// unrelated values and never reads it during its calls. That is the honest Go
// equivalent of an actor mailbox holding B queued messages: a Go receive
// reads one channel and never scans anything else, so the backlog cannot
// cost it anything, while an actor's receive of a reply has to pass over
// (or, with a mark, skip) the queued messages.
func genserverCall(n, clients, backlog int) time.Duration {
	requests := make(chan callRequest, clients) // mailbox: senders never block
	go func() {
		state := 0
		for r := range requests {
			r.reply <- state
		}
	}()
	var ready, done sync.WaitGroup
	ready.Add(clients)
	done.Add(clients)
	start := make(chan struct{})
	for c := 0; c < clients; c++ {
		go func() {
			defer done.Done()
			queued := make(chan int, backlog)
			for i := 0; i < backlog; i++ {
				queued <- i
			}
			reply := make(chan int, 1)
			ready.Done()
			<-start
			for i := 0; i < n; i++ {
				requests <- callRequest{reply}
				if <-reply != 0 {
					panic("genserver_call: wrong reply")
				}
			}
			if len(queued) != backlog {
				panic("genserver_call: backlog lost")
			}
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	t := time.Since(t0)
	close(requests)
	return t
}

var errCrash = errors.New("crash")

// supervisedChild is a child goroutine as the supervisor knows it: its
// mailbox and its generation number.
type supervisedChild struct {
	mailbox chan struct{}
	gen     int
}

// runChild is the child wrapper: the child panics on every message; the
// deferred recover reports the panic (its exit reason) to the supervisor.
func runChild(c supervisedChild, exits chan<- interface{}) {
	defer func() { exits <- recover() }()
	for range c.mailbox {
		panic(errCrash)
	}
}

// supervisor_restart: a supervisor goroutine runs one child goroutine and
// starts a new one each time the child's wrapper reports a panic, telling
// the driver about every child it starts. n times the driver sends the
// current child a message (on which it panics) and waits for the supervisor
// to report the new child.
func supervisorRestart(n int) time.Duration {
	started := make(chan supervisedChild, 1)
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		exits := make(chan interface{}, 1)
		for gen := 0; ; gen++ {
			c := supervisedChild{make(chan struct{}, 1), gen}
			go runChild(c, exits)
			started <- c
			select {
			case reason := <-exits:
				if reason == nil {
					panic("supervisor_restart: child exited without a panic")
				}
			case <-stop:
				close(c.mailbox) // the child leaves its loop without a panic
				<-exits
				close(stopped)
				return
			}
		}
	}()
	child := <-started
	t0 := time.Now()
	for i := 0; i < n; i++ {
		child.mailbox <- struct{}{}
		next := <-started
		if next.gen != child.gen+1 {
			panic("supervisor_restart: unexpected child")
		}
		child = next
	}
	t := time.Since(t0)
	close(stop)
	<-stopped
	return t
}

// genserverIdle: n server goroutines, each with a small state, blocked on its
// request channel (Go's idle "gen_server"); the time to start them and the
// RSS delta per server.
func genserverIdle(n int) (time.Duration, int) {
	type req struct{ reply chan int }
	rss0 := rss()
	t0 := time.Now()
	chans := make([]chan req, n)
	for i := 0; i < n; i++ {
		c := make(chan req)
		chans[i] = c
		go func(id int, c chan req) {
			for r := range c {
				r.reply <- id
			}
		}(i, c)
	}
	t := time.Since(t0)
	rss1 := rss()
	for _, c := range chans {
		close(c)
	}
	return t, (rss1 - rss0) / n
}

// step is the hogs' unit of work: one non-inlined call doing integer
// arithmetic (the same function as troupe-bench's spin kernel).
//
//go:noinline
func step(x uint64) uint64 { return (x*2862933555777941757 + 3037000493) >> 1 }

// hog calls step until stop is set, checking it every iteration.
func hog(stop *int32, sink *uint64, done *sync.WaitGroup) {
	defer done.Done()
	x := uint64(1)
	for i := uint64(0); atomic.LoadInt32(stop) == 0; i++ {
		x = step(x + i)
	}
	atomic.AddUint64(sink, x) // keeps the loop's result alive
}

// rank returns the nearest-rank p-th percentile of sorted (ascending).
func rank(sorted []int, p int) int {
	i := (p*len(sorted) + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

// fairness: hogs goroutines spin in hog (never blocking), and after 20 ms
// for them to start, a ping-pong pair (this goroutine and one other, over
// unbuffered channels) makes n round trips, each one timed on its own. It
// returns the median, 99th percentile and maximum round-trip time in ns.
func fairness(n, hogs int) (p50, p99, max int) {
	var stop int32
	var sink uint64
	var hogsDone sync.WaitGroup
	hogsDone.Add(hogs)
	for h := 0; h < hogs; h++ {
		go hog(&stop, &sink, &hogsDone)
	}
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	rtts := make([]int, n)
	for i := range rtts {
		t0 := time.Now()
		ping <- struct{}{}
		<-pong
		rtts[i] = int(time.Since(t0).Nanoseconds())
	}
	close(ping)
	atomic.StoreInt32(&stop, 1)
	hogsDone.Wait()
	sort.Ints(rtts)
	return rank(rtts, 50), rank(rtts, 99), rtts[n-1]
}
