package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// SafeError returns err's text fit for logs, task results and metrics. A
// MySQL error message can quote the statement's values, such as a
// duplicate key or a value too long for go-mysql-server. So the message
// is replaced by its error number, and the context around it stays.
func SafeError(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		text = strings.Replace(text, me.Error(), fmt.Sprintf("mysql error %d", me.Number), 1)
	}
	return text
}
