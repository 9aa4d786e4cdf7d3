// Package pgtest is what tests against a real PostgreSQL share: the
// database they may use, a schema of their own dropped when they end, and a
// TCP proxy that cuts the database off for the clients behind it (an outage
// that touches no other test on the machine). For tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSN returns the database of PAPERREC_TEST_POSTGRES. Without it the test
// is skipped, or fails when PAPERREC_REQUIRE_POSTGRES=1 (CI).
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("PAPERREC_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("PAPERREC_REQUIRE_POSTGRES") == "1" {
			t.Fatal("PAPERREC_REQUIRE_POSTGRES=1 but PAPERREC_TEST_POSTGRES is not set")
		}
		t.Skip("PAPERREC_TEST_POSTGRES is not set")
	}
	return dsn
}

// Schema returns a new schema name, prefix and random letters, and drops
// the schema when the test ends: after what the test opened later is
// closed, since cleanups run last first.
func Schema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	schema := prefix + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// Proxy forwards TCP connections to the database until cut: then it closes
// every connection and refuses new ones, as a database that went away
// does, until restored. Safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

// NewProxy starts a proxy to the database of dsn and returns the DSN that
// goes through it. It needs a postgres:// URL with a host (else it skips).
func NewProxy(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("PAPERREC_TEST_POSTGRES is not a postgres:// URL with a host: %q", dsn)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
	})
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close(); c.Close() }()
	io.Copy(c, up)
	c.Close()
	up.Close()
}

// Cut closes every connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}
