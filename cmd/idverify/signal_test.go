package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeStopsOnSignal builds the binary, runs serve on the embedded
// stores, and sends SIGTERM then SIGINT to two runs: each must log the
// shutdown steps and exit 0.
func TestServeStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "idverify")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "serve")
			cmd.Env = append(os.Environ(), "IDVERIFY_ADDR=127.0.0.1:0", "IDVERIFY_SHUTDOWN_TIMEOUT=5s", "TMPDIR="+t.TempDir())
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()

			waitLine(t, lines, "idverify ready")
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitLine(t, lines, "shutting down")
			waitLine(t, lines, "msg=stopped")
			if err := cmd.Wait(); err != nil {
				t.Fatalf("serve exited with %v after %s, want 0", err, sig)
			}
		})
	}
}

func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(45 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line containing %q", want)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no line containing %q within 45s", want)
		}
	}
}
