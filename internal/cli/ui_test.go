package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestUIServes: batchrun ui prints where it serves once it listens,
// serves the API there, and exits 0 when interrupted (its context ends,
// as Main's does on SIGINT).
func TestUIServes(t *testing.T) {
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdoutR.Close()
	stderr, err := os.Create(t.TempDir() + "/stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan int, 1)
	go func() {
		defer stdoutW.Close()
		exited <- run(ctx, []string{"batchrun", "ui", "--state-dir", t.TempDir(), "--listen", "127.0.0.1:0"}, stdoutW, stderr, Hooks{})
	}()

	// The first line says where: reading it waits until the UI listens.
	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("read the first line of stdout: %v (exit %d)", err, <-exited)
	}
	m := regexp.MustCompile(`^batchrun ui serving at (http://127\.0\.0\.1:[0-9]+/)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q, want batchrun ui serving at http://127.0.0.1:PORT/", line)
	}
	resp, err := http.Get(m[1] + "api/runs")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("GET %sapi/runs: %d %q (%v), want 200 [] (no runs yet)", m[1], resp.StatusCode, body, err)
	}
	cancel()
	if code := <-exited; code != ExitOK {
		t.Errorf("exit %d after interrupt, want %d", code, ExitOK)
	}
}
