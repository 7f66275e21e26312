package embedded

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	vitess "github.com/dolthub/vitess/go/mysql"
)

func sqlErrorNumber(err error) int {
	var sqlErr *vitess.SQLError
	if errors.As(err, &sqlErr) {
		return sqlErr.Number()
	}
	return 0
}

func TestStatementLock(t *testing.T) {
	ctx := context.Background()
	lock := newStatementLock(20 * time.Millisecond)

	if err := lock.acquire(ctx, 1); err != nil {
		t.Fatalf("connection 1 acquire: %v", err)
	}
	if err := lock.acquire(ctx, 1); err != nil {
		t.Fatalf("connection 1 acquire while holding: %v", err)
	}
	if err := lock.acquire(ctx, 2); sqlErrorNumber(err) != vitess.ERLockWaitTimeout {
		t.Fatalf("connection 2 acquire while 1 holds: error %v, want number %d", err, vitess.ERLockWaitTimeout)
	}

	lock.release(2) // not the holder: no effect
	if err := lock.acquire(ctx, 3); sqlErrorNumber(err) != vitess.ERLockWaitTimeout {
		t.Fatalf("connection 3 acquire after release by non-holder: error %v, want number %d", err, vitess.ERLockWaitTimeout)
	}

	lock.release(1)
	if err := lock.acquire(ctx, 2); err != nil {
		t.Fatalf("connection 2 acquire after release: %v", err)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := lock.acquire(canceled, 3); sqlErrorNumber(err) != vitess.ERQueryInterrupted {
		t.Errorf("acquire with canceled context: error %v, want number %d", err, vitess.ERQueryInterrupted)
	}

	lock.close()
	if err := lock.acquire(ctx, 3); sqlErrorNumber(err) != vitess.ERServerShutdown {
		t.Errorf("acquire after close: error %v, want number %d", err, vitess.ERServerShutdown)
	}
}

func TestMailboxKeepsNewestMessages(t *testing.T) {
	box, err := StartMailbox("127.0.0.1:0", nil)
	if err != nil {
		t.Fatalf("StartMailbox: %v", err)
	}
	defer box.Close()

	total := MailboxMaxMessages + 5
	for i := range total {
		box.deliver("a@example.com", []string{"b@example.com"}, []byte("Subject: "+strconv.Itoa(i+1)+"\r\n\r\nx\r\n"))
	}
	messages := box.Messages()

	if len(messages) != MailboxMaxMessages {
		t.Fatalf("kept %d messages, want %d", len(messages), MailboxMaxMessages)
	}
	if first, last := messages[0].ID, messages[len(messages)-1].ID; first != 6 || last != total {
		t.Errorf("kept IDs %d to %d, want 6 to %d", first, last, total)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := box.Wait(ctx, total); err != nil {
		t.Errorf("Wait(%d) after %d deliveries: %v", total, total, err)
	}
}
