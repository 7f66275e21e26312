// Package embedded runs in-process stand-ins for the servers idverify needs,
// so that `idverify serve` works with no configuration and tests need no
// installed servers:
//
//   - [Redis]: github.com/alicebob/miniredis/v2 on a loopback TCP port.
//   - [MySQL]: github.com/dolthub/go-mysql-server with its in-memory engine,
//     speaking the MySQL wire protocol on a loopback TCP port.
//   - [Mailbox]: an SMTP sink (github.com/emersion/go-smtp) that keeps every
//     message in memory and shows it on an HTML page.
//
// Clients reach all three through their normal network drivers (go-redis and
// asynq, go-sql-driver/mysql, any SMTP client), exactly as they reach real
// servers. Nothing is written to disk, so all data is lost when the process
// exits. The servers require no credentials, so they listen on 127.0.0.1
// unless the caller asks for another address.
package embedded
