// TCP peer servers for troupe's TCP benchmarks, driven by troupe-loadgen
// (bench/loadgen/README.md). Standard library only; run.sh builds it with
// GO111MODULE=off. Its own directory, because peers.go next door is a main
// package too. Usage:
//
//	peers-tcp-go echo|chat|chat_unbatched PORT
//
// Listens on 127.0.0.1:PORT until killed. Frames are {packet,4}: a 4-byte
// big-endian length, then the payload.
//
//   - echo: a goroutine per connection reads frames through a bufio.Reader
//     (4 KiB, the default) and writes each one back with one Write.
//   - chat: a client's first frame is "J<room>"; the server adds it to the room
//     and answers "J". Every later frame goes, unchanged, to every other
//     member of the room. Each member has an outgoing channel drained by its
//     own writer goroutine into a bufio.Writer that is flushed whenever the
//     channel is empty, so deliveries that pile up go out in one write.
//   - chat_unbatched: the same, but the writer makes one Write per frame.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

const maxFrame = 1 << 24

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: peers-tcp-go echo|chat|chat_unbatched PORT")
		os.Exit(2)
	}
	var handle func(net.Conn)
	switch os.Args[1] {
	case "echo":
		handle = echo
	case "chat", "chat_unbatched":
		rs := &rooms{m: map[string]*room{}}
		batched := os.Args[1] == "chat"
		handle = func(c net.Conn) { chat(c, rs, batched) }
	default:
		fmt.Fprintf(os.Stderr, "peers-tcp-go: unknown server %q\n", os.Args[1])
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers-tcp-go:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			// Out of descriptors and the like: say so and wait, as
			// net/http does. The load generator fails on its side.
			fmt.Fprintln(os.Stderr, "peers-tcp-go: accept:", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		go handle(c)
	}
}

// readFrame reads one frame into buf (grown if needed) and returns it,
// header included.
func readFrame(r *bufio.Reader, buf []byte) ([]byte, error) {
	if cap(buf) < 4 {
		buf = make([]byte, 4, 64)
	}
	buf = buf[:4]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(buf))
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	if cap(buf) < 4+n {
		grown := make([]byte, 4+n)
		copy(grown, buf)
		buf = grown
	}
	buf = buf[:4+n]
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return nil, err
	}
	return buf, nil
}

func echo(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var buf []byte
	for {
		f, err := readFrame(r, buf)
		if err != nil {
			return
		}
		if _, err := c.Write(f); err != nil {
			return
		}
		buf = f
	}
}

type member struct {
	conn net.Conn
	out  chan []byte
	done chan struct{} // closed when the connection's reader ends
}

// room members are copy-on-write: a sender takes the current slice under the
// lock and sends without it.
type room struct {
	mu      sync.Mutex
	members []*member
}

type rooms struct {
	mu sync.Mutex
	m  map[string]*room
}

func (rs *rooms) get(name string) *room {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.m[name]
	if r == nil {
		r = &room{}
		rs.m[name] = r
	}
	return r
}

func (r *room) join(m *member) {
	r.mu.Lock()
	r.members = append(append([]*member(nil), r.members...), m)
	r.mu.Unlock()
}

func (r *room) leave(m *member) {
	r.mu.Lock()
	kept := make([]*member, 0, len(r.members))
	for _, o := range r.members {
		if o != m {
			kept = append(kept, o)
		}
	}
	r.members = kept
	r.mu.Unlock()
}

func (r *room) snapshot() []*member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.members
}

func chat(c net.Conn, rs *rooms, batched bool) {
	defer c.Close()
	rd := bufio.NewReader(c)
	first, err := readFrame(rd, nil)
	if err != nil || len(first) < 5 || first[4] != 'J' {
		return
	}
	rm := rs.get(string(first[5:]))
	me := &member{conn: c, out: make(chan []byte, 1024), done: make(chan struct{})}
	// The reply goes through the channel before the join, so that no
	// delivery can overtake it.
	me.out <- []byte{0, 0, 0, 1, 'J'}
	go writer(me, batched)
	rm.join(me)
	defer func() {
		rm.leave(me)
		close(me.done)
	}()
	for {
		// A fresh buffer per frame: it is shared, read-only, by every
		// recipient's writer.
		f, err := readFrame(rd, nil)
		if err != nil {
			return
		}
		for _, m := range rm.snapshot() {
			if m != me {
				select {
				case m.out <- f:
				case <-m.done:
				}
			}
		}
	}
}

func writer(m *member, batched bool) {
	if !batched {
		for {
			select {
			case f := <-m.out:
				if _, err := m.conn.Write(f); err != nil {
					return
				}
			case <-m.done:
				return
			}
		}
	}
	w := bufio.NewWriter(m.conn)
	for {
		select {
		case f := <-m.out:
			w.Write(f)
		drain:
			for {
				select {
				case f := <-m.out:
					w.Write(f)
				default:
					break drain
				}
			}
			if err := w.Flush(); err != nil {
				return
			}
		case <-m.done:
			return
		}
	}
}
