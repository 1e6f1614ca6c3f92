// Command latency is a TCP proxy that delays every byte by a fixed time
// in each direction, so that a benchmark on one machine can see what a
// round trip costs when PostgreSQL is on another host (a county bank's
// database server is rarely the application's machine). The kernel's
// netem would do this, but it is not on every machine we measure on.
//
//	go run ./bench/latency -listen 127.0.0.1:6432 -to 127.0.0.1:5432 -delay 250us
//
// A delay of 250µs each way is a 0.5 ms round trip, about what two hosts
// on one switch see. Bytes keep their order; throughput is not limited.
package main

import (
	"flag"
	"log"
	"net"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:6432", "address to accept on")
	to := flag.String("to", "127.0.0.1:5432", "address to forward to")
	delay := flag.Duration("delay", 250*time.Microsecond, "added to each direction")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("latency: %s -> %s, %s each way", *listen, *to, *delay)
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			u, err := net.Dial("tcp", *to)
			if err != nil {
				log.Print(err)
				c.Close()
				return
			}
			go pipe(u, c, *delay)
			pipe(c, u, *delay)
		}()
	}
}

// chunk is what one read returned and when it may be written on.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, each read held back until delay after it
// arrived; a reader goroutine keeps reading meanwhile, so the delay adds
// latency without limiting throughput.
func pipe(dst, src net.Conn, delay time.Duration) {
	defer dst.Close()
	defer src.Close()
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{buf[:n], time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.b); err != nil {
			return // closing src ends the reader
		}
	}
}
