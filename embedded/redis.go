package embedded

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
)

// Redis is an in-process Redis server (miniredis) listening on a loopback
// TCP port. It supports the commands and Lua scripting that asynq uses, but
// keeps everything in memory and has no persistence, replication or ACLs.
type Redis struct {
	server *miniredis.Miniredis
	addr   string
}

// StartRedis starts an in-process Redis server on 127.0.0.1 with a port
// chosen by the kernel. It returns an error if the listener cannot be opened.
// The caller must call [Redis.Close].
func StartRedis() (*Redis, error) {
	return StartRedisAt("127.0.0.1:0")
}

// StartRedisAt starts an in-process Redis server listening on addr
// (host:port; port 0 picks a free port). It accepts clients without a
// password, so addr should be a loopback address. It returns an error if
// the listener cannot be opened. The caller must call [Redis.Close].
func StartRedisAt(addr string) (*Redis, error) {
	server := miniredis.NewMiniRedis()
	if err := server.StartAddr(addr); err != nil {
		return nil, fmt.Errorf("start embedded redis on %s: %w", addr, err)
	}
	return &Redis{server: server, addr: server.Addr()}, nil
}

// Addr returns the host:port the server listens on, for example
// "127.0.0.1:41234".
func (r *Redis) Addr() string {
	return r.addr
}

// Close stops the server and closes all client connections. It is safe to
// call more than once.
func (r *Redis) Close() {
	r.server.Close()
}
