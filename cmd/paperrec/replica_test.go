package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paperrec/paperrec/internal/pgtest"
)

// The tests of this file run replicas as real processes (paperrec serve
// --store) against one PostgreSQL schema, as issue 12 asks: writes through
// one replica reach the others, a replica killed with SIGKILL comes back
// from the store's snapshot and catches up, an outage of the database stops
// writes and not reads, and replicas starting together migrate and seed
// once. They need PAPERREC_TEST_POSTGRES and skip without it, unless
// PAPERREC_REQUIRE_POSTGRES=1 (CI).

// testPostgres returns the test database's DSN, as pgstore's tests read it.
func testPostgres(t *testing.T) string { return pgtest.DSN(t) }

// newStoreSchema returns a schema name of the test's own, dropped when the
// test ends: after the servers it starts are killed, since cleanups run
// last first.
func newStoreSchema(t *testing.T, dsn string) string { return pgtest.Schema(t, dsn, "replica_test_") }

// replicaArgs are the flags of a replica of schema over the small corpus,
// refitting only when asked, so that the tests choose when a snapshot is
// made.
func replicaArgs(dsn, schema string) []string {
	return []string{"--store", dsn, "--store-schema", schema, "--corpus", small, "--refit-after", "-1"}
}

var replicaEnv = []string{"PAPERREC_API_TOKEN=" + liveToken}

// healthz is what /healthz reports of a replica's engine.
type healthz struct {
	Seq       uint64 `json:"seq"`
	FitSeq    uint64 `json:"fit_seq"`
	Papers    int    `json:"papers"`
	Snapshot  string `json:"snapshot"`
	Refitting bool   `json:"refitting"`
}

func healthOf(t *testing.T, p *proc) healthz {
	t.Helper()
	code, body := get(t, p.url+"/healthz")
	var h healthz
	if err := json.Unmarshal(body, &h); code != 200 || err != nil {
		t.Fatalf("%s/healthz: %d %s", p.url, code, body)
	}
	return h
}

// waitUntil polls cond until it holds, failing the test after d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustWrite sends a write with the token and fails the test unless it
// answers want.
func mustWrite(t *testing.T, method, url, body string, want int) {
	t.Helper()
	code, resp, err := call(method, url, body)
	if err != nil || code != want {
		t.Fatalf("%s %s: %d %s %v; want %d", method, url, code, resp, err, want)
	}
}

// answers returns a replica's related list of every paper it serves, as
// the JSON bodies of GET /v1/papers/{id}/related, by ID.
func answers(t *testing.T, p *proc) map[string]string {
	t.Helper()
	code, body := get(t, p.url+"/v1/papers?limit=1000")
	var list struct {
		Papers []struct{ ID string } `json:"papers"`
		Total  int                   `json:"total"`
	}
	if err := json.Unmarshal(body, &list); code != 200 || err != nil || list.Total != len(list.Papers) {
		t.Fatalf("list papers: %d %.200s", code, body)
	}
	out := make(map[string]string, len(list.Papers))
	for _, pp := range list.Papers {
		code, body := get(t, p.url+"/v1/papers/"+url.PathEscape(pp.ID)+"/related")
		if code != 200 {
			t.Fatalf("related of %s: %d %s", pp.ID, code, body)
		}
		out[pp.ID] = string(body)
	}
	return out
}

// sameAnswers checks that every replica serves the papers the first does,
// with the same related list for each, byte for byte.
func sameAnswers(t *testing.T, ps ...*proc) {
	t.Helper()
	want := answers(t, ps[0])
	for k, p := range ps[1:] {
		got := answers(t, p)
		var missing, extra, differ []string
		for id, w := range want {
			switch g, ok := got[id]; {
			case !ok:
				missing = append(missing, id)
			case g != w:
				differ = append(differ, id)
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				extra = append(extra, id)
			}
		}
		if len(missing)+len(extra)+len(differ) > 0 {
			slices.Sort(differ)
			msg := fmt.Sprintf("replica %d against the first: missing %v, extra %v, related lists differ for %d papers %v", k+1, missing, extra, len(differ), differ)
			if len(differ) > 0 {
				msg += fmt.Sprintf("\nfirst: %.600s\nthis:  %.600s", want[differ[0]], got[differ[0]])
			}
			t.Fatal(msg)
		}
	}
	t.Logf("%d replicas serve the same related lists for all %d papers", len(ps), len(want))
}

// TestReplicasShareOneStore runs three replicas on one schema: a write
// through A is visible through B and C; B, killed with SIGKILL while A
// writes and refits, comes back from the store's newest snapshot and
// catches up; killed again while A only writes, it comes back from a
// snapshot older than the store and catches up by change number. Each
// time all three serve the same related list for every paper.
func TestReplicasShareOneStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	dsn := testPostgres(t)
	args := replicaArgs(dsn, newStoreSchema(t, dsn))
	a := startServe(t, replicaEnv, args...)
	b := startServe(t, replicaEnv, args...)
	c := startServe(t, replicaEnv, args...)

	mustWrite(t, "POST", a.url+"/v1/papers", paperJSON("r1", "Weak lensing of galaxy clusters"), 201)
	for _, p := range []*proc{b, c} {
		waitUntil(t, 30*time.Second, "the write through A is not visible through "+p.url, func() bool {
			code, _ := get(t, p.url+"/v1/papers/r1")
			return code == 200
		})
	}
	sameAnswers(t, a, b, c)

	// B goes; A adds, replaces and removes, refits, and writes again.
	b.kill()
	for i := 2; i <= 6; i++ {
		id := fmt.Sprintf("r%d", i)
		mustWrite(t, "POST", a.url+"/v1/papers", paperJSON(id, "Lensing survey "+id), 201)
	}
	mustWrite(t, "PUT", a.url+"/v1/papers/p002", paperJSON("p002", "Dark matter subhalos seen by strong lensing"), 200)
	mustWrite(t, "DELETE", a.url+"/v1/papers/p003", "", 200)
	before := healthOf(t, a)
	mustWrite(t, "POST", a.url+"/v1/admin/refit", "", 202)
	var refit healthz
	waitUntil(t, time.Minute, "A's refit did not swap in", func() bool {
		refit = healthOf(t, a)
		return refit.Snapshot != before.Snapshot && refit.FitSeq == before.Seq && !refit.Refitting
	})
	for i := 7; i <= 9; i++ {
		id := fmt.Sprintf("r%d", i)
		mustWrite(t, "POST", a.url+"/v1/papers", paperJSON(id, "Lensing survey "+id), 201)
	}
	b = startServe(t, replicaEnv, args...)
	ha, hb := healthOf(t, a), healthOf(t, b)
	if hb != ha || hb.Snapshot != refit.Snapshot || hb.Seq != refit.FitSeq+3 {
		t.Errorf("B back after the refit: %+v; A: %+v, the refit's snapshot %s at %d", hb, ha, refit.Snapshot, refit.FitSeq)
	}
	if !strings.Contains(b.log(), "msg=\"snapshot loaded\"") || strings.Contains(b.log(), "engine fitted") {
		t.Errorf("B did not start from the store's snapshot:\n%s", b.log())
	}
	waitUntil(t, 30*time.Second, "C did not load A's snapshot and follow", func() bool {
		return healthOf(t, c) == ha
	})
	sameAnswers(t, a, b, c)

	// B goes again; A writes without a refit. B comes back from a snapshot
	// four changes behind the store and catches up by number.
	b.kill()
	for i := 10; i <= 12; i++ {
		id := fmt.Sprintf("r%d", i)
		mustWrite(t, "POST", a.url+"/v1/papers", paperJSON(id, "Lensing survey "+id), 201)
	}
	mustWrite(t, "DELETE", a.url+"/v1/papers/r2", "", 200)
	b = startServe(t, replicaEnv, args...)
	ha, hb = healthOf(t, a), healthOf(t, b)
	if hb != ha || hb.Snapshot != refit.Snapshot || hb.FitSeq != refit.FitSeq || hb.Seq != refit.FitSeq+7 {
		t.Errorf("B back without a refit: %+v; A: %+v, the refit's snapshot %s at %d", hb, ha, refit.Snapshot, refit.FitSeq)
	}
	waitUntil(t, 30*time.Second, "C did not follow", func() bool { return healthOf(t, c) == ha })
	sameAnswers(t, a, b, c)
}

// writeLog records the writes of TestReplicasOutage's writers.
type writeLog struct {
	mu      sync.Mutex
	acked   []string         // 201
	unknown []string         // no answer, or a 503 that may have been committed
	codes   map[string][]int // status by phase ("before", "down", "back")
	bad     []string         // answers that are neither 201 nor 503
}

// TestReplicasOutage cuts two replicas off PostgreSQL (through a TCP proxy,
// so that the database stays up for everyone else on the machine) while
// writers write through both: during the outage every read answers and
// every write answers 503 with Retry-After, and the replicas' listeners
// lose their connections; once the database is back, writes resume, the
// listeners reconnect, both replicas converge, and every acknowledged
// write is served by both.
func TestReplicasOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	dsn := testPostgres(t)
	schema := newStoreSchema(t, dsn)
	proxy, via := pgtest.NewProxy(t, dsn)
	args := replicaArgs(via, schema)
	a := startServe(t, replicaEnv, args...)
	b := startServe(t, replicaEnv, args...)

	var phase struct {
		sync.Mutex
		name string
	}
	setPhase := func(name string) {
		phase.Lock()
		phase.name = name
		phase.Unlock()
	}
	setPhase("before")
	wl := &writeLog{codes: map[string][]int{}}
	count := func(ph string, code int) int {
		wl.mu.Lock()
		defer wl.mu.Unlock()
		return countCode(wl.codes[ph], code)
	}
	ctx, stop := context.WithCancel(context.Background())
	var writers sync.WaitGroup
	for name, p := range map[string]*proc{"a": a, "b": b} {
		writers.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				phase.Lock()
				ph := phase.name
				phase.Unlock()
				id := fmt.Sprintf("o-%s-%d", name, n)
				req, _ := http.NewRequest("POST", p.url+"/v1/papers", strings.NewReader(paperJSON(id, "Outage paper "+id)))
				req.Header.Set("Authorization", "Bearer "+liveToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				code := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
					if code == 503 && resp.Header.Get("Retry-After") == "" {
						code = -503 // a 503 without Retry-After is a bad answer
					}
				}
				phase.Lock()
				same := ph == phase.name // the phase did not change while the write was under way
				phase.Unlock()
				wl.mu.Lock()
				switch code {
				case 201:
					wl.acked = append(wl.acked, id)
				case 503:
					wl.unknown = append(wl.unknown, id)
				default:
					wl.unknown = append(wl.unknown, id)
					wl.bad = append(wl.bad, fmt.Sprintf("%s in phase %s: %d %v", id, ph, code, err))
				}
				if same {
					wl.codes[ph] = append(wl.codes[ph], code)
				}
				wl.mu.Unlock()
				if code != 201 {
					time.Sleep(20 * time.Millisecond) // as Retry-After asks, but sooner
				}
			}
		})
	}
	defer func() {
		stop()
		writers.Wait()
	}()
	waitUntil(t, time.Minute, "writes before the outage", func() bool { return count("before", 201) >= 10 })

	proxy.Cut()
	setPhase("down")
	waitUntil(t, time.Minute, "writes during the outage did not fail", func() bool { return count("down", 503) >= 10 })
	for _, p := range []*proc{a, b} {
		waitUntil(t, time.Minute, p.url+" did not lose the notifications", func() bool {
			return strings.Contains(p.log(), "lost the notifications of the store")
		})
	}
	for _, p := range []*proc{a, b} {
		for _, path := range []string{"/v1/papers/p001/related", "/v1/search?q=lensing", "/v1/papers/p002"} {
			if code, body := get(t, p.url+path); code != 200 {
				t.Errorf("a read during the outage: %s%s: %d %s", p.url, path, code, body)
			}
		}
	}
	wl.mu.Lock()
	downCodes := slices.Clone(wl.codes["down"])
	wl.mu.Unlock()
	for _, c := range downCodes {
		if c != 503 {
			t.Errorf("a write started and answered during the outage: %d, want 503", c)
		}
	}

	proxy.Restore()
	setPhase("back")
	waitUntil(t, time.Minute, "writes did not resume after the outage", func() bool { return count("back", 201) >= 10 })
	stop()
	writers.Wait()
	// The notifications are back too: a write through A alone reaches B.
	for _, p := range []*proc{a, b} {
		waitUntil(t, time.Minute, p.url+" did not listen again", func() bool {
			return strings.Contains(p.log(), "notifications of the store back")
		})
	}
	mustWrite(t, "POST", a.url+"/v1/papers", paperJSON("o-after", "Lensing after the outage"), 201)
	waitUntil(t, 30*time.Second, "a write through A after the outage did not reach B", func() bool {
		code, _ := get(t, b.url+"/v1/papers/o-after")
		return code == 200
	})

	wl.mu.Lock()
	defer wl.mu.Unlock()
	if len(wl.bad) > 0 {
		t.Errorf("answers that are neither 201 nor 503 with Retry-After: %v", wl.bad)
	}
	t.Logf("writes: %d acknowledged, %d not; by phase: before %d (%d acknowledged), down %d, back %d (%d acknowledged)",
		len(wl.acked), len(wl.unknown), len(wl.codes["before"]), countCode(wl.codes["before"], 201), len(wl.codes["down"]),
		len(wl.codes["back"]), countCode(wl.codes["back"], 201))
	// Both replicas converge on the store, which holds every acknowledged write.
	waitUntil(t, time.Minute, "the replicas did not converge", func() bool {
		ha, hb := healthOf(t, a), healthOf(t, b)
		return ha.Seq == hb.Seq && ha.Seq >= uint64(len(wl.acked))
	})
	for _, p := range []*proc{a, b} {
		for _, id := range wl.acked {
			if code, _ := get(t, p.url+"/v1/papers/"+id); code != 200 {
				t.Errorf("%s: acknowledged %s is lost: %d", p.url, id, code)
			}
		}
	}
	// A write answered 503 may have committed (the connection was cut
	// during its COMMIT); then both replicas serve it.
	committed := 0
	for _, id := range wl.unknown {
		ca, _ := get(t, a.url+"/v1/papers/"+id)
		cb, _ := get(t, b.url+"/v1/papers/"+id)
		if ca != cb {
			t.Errorf("%s, not acknowledged: %d on A, %d on B", id, ca, cb)
		}
		if ca == 200 {
			committed++
		}
	}
	t.Logf("%d writes not acknowledged were committed nonetheless", committed)
	if h := healthOf(t, a); h.Papers < 41+len(wl.acked) || h.Seq != uint64(h.Papers-40) {
		t.Errorf("after the outage: %+v; want 40 + %d acknowledged papers or more, one change each", h, 1+len(wl.acked))
	}
	sameAnswers(t, a, b)
}

// countCode counts the answers of status code.
func countCode(codes []int, code int) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

// TestReplicasStartTogether starts three replicas at the same moment on a
// schema that does not exist yet: all come up, the schema is migrated once
// and seeded once, and all serve the same snapshot.
func TestReplicasStartTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	dsn := testPostgres(t)
	schema := newStoreSchema(t, dsn)
	args := replicaArgs(dsn, schema)
	ps := make([]*proc, 3)
	for i := range ps {
		ps[i] = launchServe(t, replicaEnv, args...)
	}
	for _, p := range ps {
		p.waitReady(t)
	}
	files, err := filepath.Glob("../../pgstore/migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	var migrated, seeded int
	first := healthOf(t, ps[0])
	for i, p := range ps {
		migrated += strings.Count(p.log(), `msg="schema migrated"`)
		seeded += strings.Count(p.log(), `msg="store seeded"`)
		h := healthOf(t, p)
		if h.Snapshot == "" || h != first || h.Papers != 40 || h.Seq != 0 {
			t.Errorf("replica %d: %+v; replica 0: %+v", i, h, first)
		}
	}
	if migrated != len(files) || seeded != 1 {
		t.Errorf("the replicas logged %d migrations and %d seeds; want %d and 1", migrated, seeded, len(files))
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var versions, maxVersion, papers, changes, seq, hashes int
	for _, q := range []struct {
		sql  string
		dest []any
	}{
		{`SELECT count(*), max(version) FROM ` + schema + `.schema_migrations`, []any{&versions, &maxVersion}},
		{`SELECT count(*) FROM ` + schema + `.papers`, []any{&papers}},
		{`SELECT count(*) FROM ` + schema + `.changes`, []any{&changes}},
		{`SELECT seq FROM ` + schema + `.meta`, []any{&seq}},
		{`SELECT count(DISTINCT sha256) FROM ` + schema + `.snapshots`, []any{&hashes}},
	} {
		if err := conn.QueryRow(ctx, q.sql).Scan(q.dest...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if versions != len(files) || maxVersion != len(files) || papers != 40 || changes != 0 || seq != 0 || hashes != 1 {
		t.Errorf("the store: %d migrations (up to %d), %d papers, %d changes, seq %d, %d distinct snapshots; want %d, 40, 0, 0, 1",
			versions, maxVersion, papers, changes, seq, hashes, len(files))
	}
}

// writeSeq sends a write with the token, fails the test unless it answers
// 201, and returns the number of its last change.
func writeSeq(t *testing.T, url, body string) uint64 {
	t.Helper()
	code, resp, err := call("POST", url, body)
	var ans struct {
		Changes []struct{ Seq uint64 } `json:"changes"`
	}
	if err != nil || code != 201 || json.Unmarshal([]byte(resp), &ans) != nil || len(ans.Changes) == 0 {
		t.Fatalf("POST %s: %d %s %v", url, code, resp, err)
	}
	return ans.Changes[len(ans.Changes)-1].Seq
}

// TestReplicaFollowsWhileRefitting writes through B while A refits (the
// bundled corpus, so that a refit takes a while): A folds the write in
// before its refit is swapped in, as it does any other time. A refit must
// not stop a replica from following the store: at 50,000 papers it runs
// for minutes.
func TestReplicaFollowsWhileRefitting(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	dsn := testPostgres(t)
	args := []string{"--store", dsn, "--store-schema", newStoreSchema(t, dsn), "--refit-after", "-1"}
	a := startServe(t, replicaEnv, args...)
	b := startServe(t, replicaEnv, args...)
	// A round is void when the refit ends before the write reaches A;
	// the refit takes about a second and the write milliseconds.
	for round := range 5 {
		writeSeq(t, a.url+"/v1/papers", paperJSON(fmt.Sprintf("fr-a%d", round), "Lensing survey before a refit"))
		before := healthOf(t, a)
		mustWrite(t, "POST", a.url+"/v1/admin/refit", "", 202)
		var h healthz
		waitUntil(t, time.Minute, "A did not start its refit", func() bool {
			h = healthOf(t, a)
			return h.Refitting || h.FitSeq != before.FitSeq
		})
		if !h.Refitting {
			t.Logf("round %d: the refit ended before it was seen", round)
			continue
		}
		w := writeSeq(t, b.url+"/v1/papers", paperJSON(fmt.Sprintf("fr-b%d", round), "Lensing survey during a refit"))
		waitUntil(t, time.Minute, "B's write did not reach A", func() bool {
			h = healthOf(t, a)
			return h.Seq >= w
		})
		if h.FitSeq == before.FitSeq {
			t.Logf("round %d: B's write (change %d) reached A while A refitted: %+v", round, w, h)
			return
		}
		t.Logf("round %d: B's write (change %d) reached A with its refit: %+v", round, w, h)
		waitUntil(t, time.Minute, "A's refit did not end", func() bool { return !healthOf(t, a).Refitting })
	}
	t.Error("in none of 5 rounds did A fold in a write made through B while A refitted: a refit stops a replica from following the store")
}
