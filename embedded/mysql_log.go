package embedded

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"
)

// go-mysql-server and its vitess fork log through logrus. Per-connection
// messages go to the session's logrus entry, which each MySQL points at its
// own logrus.Logger. The rest go to logrus's process-wide standard logger,
// which this file silences and forwards to the slog logger of the most
// recently started MySQL that is still open.
//
// Only warnings and errors are forwarded, at slog's warn level, except the
// report of each failed statement, which goes to debug. Each keeps its
// message, connection id and MySQL error number. Every other logrus field is
// dropped because go-mysql-server attaches the full query text and error
// messages that may contain personal data.

var (
	standardLoggerOnce sync.Once

	standardSinksMu sync.Mutex
	standardSinks   []*slog.Logger
)

// forwardedLevels are the logrus levels passed on to slog. Lower levels are
// discarded, which also skips go-mysql-server's query formatting that only
// runs when debug logging is enabled.
var forwardedLevels = []logrus.Level{
	logrus.PanicLevel,
	logrus.FatalLevel,
	logrus.ErrorLevel,
	logrus.WarnLevel,
}

// slogHook is a logrus hook that writes each entry to the slog logger
// returned by target, or drops it when target returns nil.
type slogHook struct {
	target func() *slog.Logger
}

func (h slogHook) Levels() []logrus.Level {
	return forwardedLevels
}

func (h slogHook) Fire(entry *logrus.Entry) error {
	logger := h.target()
	if logger == nil {
		return nil
	}

	// MySQL.Close closes client connections under vitess's read loop, which
	// then reports this error for each of them.
	if strings.Contains(entry.Message, "use of closed network connection") {
		return nil
	}

	// A failed statement is reported to its client, so the server's own
	// report of it is only useful when debugging.
	level := slog.LevelWarn
	if entry.Message == "error running query" {
		level = slog.LevelDebug
	}

	attrs := []slog.Attr{slog.String("component", "go-mysql-server")}
	if id, ok := entry.Data[sql.ConnectionIdLogField]; ok {
		attrs = append(attrs, slog.Any("connection_id", id))
	}
	// The error text can quote row values, so only its MySQL error number
	// is passed on.
	if err, ok := entry.Data[logrus.ErrorKey].(error); ok {
		attrs = append(attrs, slog.Int("mysql_error_number", int(sql.CastSQLError(err).Number())))
	}
	logger.LogAttrs(context.Background(), level, entry.Message, attrs...)
	return nil
}

// newSessionLogger returns a logrus logger that forwards warnings and errors
// to logger and writes nothing itself.
func newSessionLogger(logger *slog.Logger) *logrus.Logger {
	sessionLogger := logrus.New()
	sessionLogger.SetOutput(io.Discard)
	sessionLogger.SetLevel(logrus.WarnLevel)
	sessionLogger.AddHook(slogHook{target: func() *slog.Logger { return logger }})
	return sessionLogger
}

// registerStandardLogSink silences logrus's standard logger on first use and
// makes logger the destination of its warnings and errors until the returned
// function is called.
func registerStandardLogSink(logger *slog.Logger) (unregister func()) {
	standardLoggerOnce.Do(func() {
		logrus.SetOutput(io.Discard)
		logrus.SetLevel(logrus.WarnLevel)
		logrus.AddHook(slogHook{target: currentStandardSink})
	})

	standardSinksMu.Lock()
	standardSinks = append(standardSinks, logger)
	standardSinksMu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			standardSinksMu.Lock()
			defer standardSinksMu.Unlock()
			for i := len(standardSinks) - 1; i >= 0; i-- {
				if standardSinks[i] == logger {
					standardSinks = append(standardSinks[:i], standardSinks[i+1:]...)
					break
				}
			}
		})
	}
}

func currentStandardSink() *slog.Logger {
	standardSinksMu.Lock()
	defer standardSinksMu.Unlock()
	if len(standardSinks) == 0 {
		return nil
	}
	return standardSinks[len(standardSinks)-1]
}
