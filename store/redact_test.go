package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/idverify/idverify/store"
)

func TestSafeErrorDropsMySQLMessage(t *testing.T) {
	cause := &mysql.MySQLError{Number: 1406, Message: "Data too long for column 'name_masked': 陳大文"}
	err := fmt.Errorf("record validation: %w", fmt.Errorf("move application to review: %w", cause))

	got := store.SafeError(err)
	if strings.Contains(got, "陳大文") {
		t.Errorf("SafeError kept the value: %q", got)
	}
	if want := "record validation: move application to review: mysql error 1406"; got != want {
		t.Errorf("SafeError = %q, want %q", got, want)
	}
	if got := store.SafeError(errors.New("plain")); got != "plain" {
		t.Errorf("SafeError(plain) = %q", got)
	}
}
