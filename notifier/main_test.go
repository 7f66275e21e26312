package notifier_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind, such as an
// SMTP session or an HTTP connection that a sender never closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
