package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const liveToken = "live-test-token-0123456789abcdef"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds paperrec once per test binary, for tests that need a real
// process to kill.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "paperrec-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "paperrec")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a paperrec serve process.
type proc struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
	urls chan string // the serving line's URL, once
}

var servingURL = regexp.MustCompile(`msg=serving url=(http://127\.0\.0\.1:\d+)`)

// startServe runs paperrec serve with args and waits until it is ready.
func startServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := launchServe(t, env, args...)
	p.waitReady(t)
	return p
}

// launchServe starts paperrec serve with args and returns at once; the
// process is killed when the test ends. waitReady waits for it, so that
// tests can start several processes at the same moment.
func launchServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--access-log", "off"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: new(bytes.Buffer), mu: new(sync.Mutex), done: make(chan struct{}), urls: make(chan string, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := servingURL.FindStringSubmatch(sc.Text()); m != nil {
				p.urls <- m[1]
			}
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// waitReady waits until a process that launchServe started listens and
// answers /readyz.
func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	select {
	case p.url = <-p.urls:
	case <-p.done:
		t.Fatalf("serve exited:\n%s", p.log())
	case <-time.After(time.Minute):
		t.Fatalf("serve did not listen:\n%s", p.log())
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready:\n%s", p.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// call sends a write with the token and returns its status and body.
func call(method, url, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+liveToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func paperJSON(id, title string) string {
	b, _ := json.Marshal(map[string]any{"id": id, "title": title, "category": "Astrophysics", "date": "2026-11",
		"abstract": "We map dark matter halos of galaxy clusters with weak gravitational lensing, paper " + id + "."})
	return string(b)
}

// TestKillNineKeepsAcknowledgedWrites writes to a server on a data
// directory, kills it with SIGKILL at a random moment, restarts it on the
// same directory, and checks that every acknowledged write is there and no
// batch is there in part. Several rounds, seeded.
func TestKillNineKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real processes")
	}
	dir := t.TempDir()
	env := []string{"PAPERREC_API_TOKEN=" + liveToken}
	args := []string{"--data", dir, "--corpus", small}
	rng := rand.New(rand.NewPCG(9, 9))
	acked := map[string]string{}   // id → title acknowledged last
	maybe := map[string][]string{} // id → titles sent whose answer never came
	batches := [][2]string{}       // pairs of ids added together
	n := 0
	for round := range 4 {
		p := startServe(t, env, args...)
		// Everything acknowledged before is there, as last acknowledged or
		// as a later write the kill cut off.
		for id, title := range acked {
			code, body := get(t, p.url+"/v1/papers/"+id)
			var got struct{ Title string }
			json.Unmarshal(body, &got)
			if code != 200 || (got.Title != title && !contains(maybe[id], got.Title)) {
				t.Fatalf("round %d: %s: %d %q, acknowledged %q", round, id, code, got.Title, title)
			}
		}
		for _, b := range batches {
			c1, _ := get(t, p.url+"/v1/papers/"+b[0])
			c2, _ := get(t, p.url+"/v1/papers/"+b[1])
			if c1 != c2 {
				t.Fatalf("round %d: half a batch: %s %d, %s %d", round, b[0], c1, b[1], c2)
			}
		}
		// Write until the kill.
		ctx, stop := context.WithCancel(context.Background())
		writes := make(chan struct{})
		go func() {
			defer close(writes)
			for ctx.Err() == nil {
				n++
				switch {
				case n%3 == 0 && len(acked) > 0: // replace one acknowledged
					var id string
					for id = range acked {
						break
					}
					title := fmt.Sprintf("Revised lensing paper %d", n)
					maybe[id] = append(maybe[id], title)
					if code, _, err := call("PUT", p.url+"/v1/papers/"+id, paperJSON(id, title)); err == nil && code == 200 {
						acked[id] = title
					}
				case n%3 == 1: // a batch of two
					a, b := fmt.Sprintf("w%d-a", n), fmt.Sprintf("w%d-b", n)
					batches = append(batches, [2]string{a, b})
					body := "[" + paperJSON(a, "Lensing "+a) + "," + paperJSON(b, "Lensing "+b) + "]"
					if code, _, err := call("POST", p.url+"/v1/papers", body); err == nil && code == 201 {
						acked[a], acked[b] = "Lensing "+a, "Lensing "+b
					}
				default:
					id := fmt.Sprintf("w%d", n)
					maybe[id] = append(maybe[id], "Lensing "+id)
					if code, _, err := call("POST", p.url+"/v1/papers", paperJSON(id, "Lensing "+id)); err == nil && code == 201 {
						acked[id] = "Lensing " + id
					}
				}
			}
		}()
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		p.kill()
		stop()
		<-writes
		t.Logf("round %d: %d papers acknowledged so far", round, len(acked))
	}
	if len(acked) < 10 {
		t.Errorf("only %d writes acknowledged in all rounds", len(acked))
	}
	// The last restart serves every paper of the corpus and each write.
	p := startServe(t, env, args...)
	var h struct{ Papers, Seq int }
	_, body := get(t, p.url+"/healthz")
	json.Unmarshal(body, &h)
	if h.Papers < 40+len(acked) || h.Seq < len(acked) {
		t.Errorf("after the rounds: %s; want at least %d papers", body, 40+len(acked))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestServeDataDirectory checks the write path through a real server: a
// write is visible at once in related, search and the map, the CLI's add
// to the same directory shows up without HTTP, and the directory is
// refused when damaged.
func TestServeDataDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	dir := t.TempDir()
	p := startServe(t, []string{"PAPERREC_API_TOKEN=" + liveToken}, "--data", dir, "--corpus", small)
	code, body, err := call("POST", p.url+"/v1/papers", paperJSON("lensing-new", "Weak lensing of galaxy clusters"))
	if err != nil || code != 201 {
		t.Fatalf("add: %d %s %v", code, body, err)
	}
	if code, body := get(t, p.url+"/v1/search?q=weak+lensing+galaxy+clusters&k=3"); code != 200 || !strings.Contains(string(body), "lensing-new") {
		t.Errorf("search after the add: %d %s", code, body)
	}
	if code, body := get(t, p.url+"/v1/map"); code != 200 || !strings.Contains(string(body), "lensing-new") {
		t.Errorf("map after the add: %d", code)
	}
	// A cron job adds through the directory, not HTTP.
	line := paperJSON("from-cron", "Strong lensing time delays") + "\n"
	if err := os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	add := exec.Command(binary(t), "add", "--data", dir, "-")
	add.Stdin = strings.NewReader(line)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("paperrec add: %v\n%s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if code, _ := get(t, p.url+"/v1/papers/from-cron"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not follow the CLI's add:\n%s", p.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
	// A damaged directory is refused, with the file named.
	if err := os.WriteFile(filepath.Join(dir, "paperrec.db"), []byte("not a database at all"), 0o640); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary(t), "serve", "--addr", "127.0.0.1:0", "--data", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "data directory damaged") || !strings.Contains(string(out), "paperrec.db") {
		t.Errorf("serve on a damaged directory: %v\n%s", err, out)
	}
}

func TestServeWriteUsage(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		msg  string
	}{
		{"token without a store", map[string]string{"PAPERREC_API_TOKEN": liveToken}, nil, "need --data DIR or --store"},
		{"short token", map[string]string{"PAPERREC_API_TOKEN": "short"}, []string{"--data", "x"}, "at least 16"},
		{"data and store", nil, []string{"--data", "x", "--store", "postgres://x"}, "--data and --store"},
		{"snapshot and data", nil, []string{"--snapshot", "x", "--data", "y"}, "--snapshot and --data"},
		{"watch without corpus", nil, []string{"--watch"}, "--watch needs --corpus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errb bytes.Buffer
			code := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...), strings.NewReader(""), io.Discard, &errb,
				func(k string) string { return tt.env[k] })
			if code != 2 || !strings.Contains(errb.String(), tt.msg) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), tt.msg)
			}
		})
	}
}

// TestServeWatch regenerates the corpus file under a server started with
// --watch: the server follows it.
func TestServeWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	path := filepath.Join(t.TempDir(), "corpus.jsonl")
	writeCorpus(t, path, "")
	p := startServe(t, nil, "--corpus", path, "--watch")
	writeCorpus(t, path, "watched")
	awaitCorpus(t, p, "watched", "the server did not follow the file")
	// A file that does not parse changes nothing.
	if err := os.WriteFile(path, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * watchEvery)
	if code, _ := get(t, p.url+"/v1/papers/watched"); code != 200 {
		t.Errorf("a broken file changed the corpus: %d", code)
	}
}

// TestServeWatchSyncsAtStart changes the corpus file while no server runs
// on a data directory: a server started with --watch makes the directory
// hold the file at once, without waiting for the file to change again.
func TestServeWatchSyncsAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	dir := t.TempDir()
	path, data := filepath.Join(dir, "corpus.jsonl"), filepath.Join(dir, "data")
	writeCorpus(t, path, "")
	p := startServe(t, nil, "--data", data, "--corpus", path)
	p.kill()
	writeCorpus(t, path, "edited-offline")
	p = startServe(t, nil, "--data", data, "--corpus", path, "--watch")
	awaitCorpus(t, p, "edited-offline", "the server did not sync the file at start")
}

// writeCorpus writes the small test corpus to path as a site regenerating
// its listing would; with added set, without its first paper (p001) and
// with a paper of that ID.
func writeCorpus(t *testing.T, path, added string) {
	t.Helper()
	src, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	if added != "" {
		lines := strings.SplitAfter(strings.TrimSpace(string(src)), "\n")
		src = []byte(strings.Join(lines[1:], "") + "\n" + paperJSON(added, "Gravitational lensing by dark matter subhalos") + "\n")
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
}

// awaitCorpus waits until p serves the corpus writeCorpus wrote with added.
func awaitCorpus(t *testing.T, p *proc, added, failure string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c1, _ := get(t, p.url+"/v1/papers/"+added)
		c2, _ := get(t, p.url+"/v1/papers/p001")
		if c1 == 200 && c2 == 404 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (new %d, removed %d):\n%s", failure, c1, c2, p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
