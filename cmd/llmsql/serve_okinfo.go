package main

import (
	"strings"

	"github.com/dolthub/vitess/go/sqltypes"
)

// The OK packet's message ("Statement prepared", "Rows matched: 1
// Changed: 1  Warnings: 0") is a length-encoded string in MySQL's protocol
// as MySQL's server writes it and as libmysqlclient and MariaDB's client
// read it. vitess (github.com/dolthub/vitess, go/mysql/conn.go,
// writeOKPacketWithInfo) writes the byte '#' and then the message to the
// end of the packet instead, so those clients read '#' (35) as the
// message's length. A message of 35 bytes or more happens to parse (the
// client shows it whole, as it is followed by the packet's end); a shorter
// one runs past the packet and the mysql and mariadb command-line clients
// fail with "Received malformed packet" (2027): PREPARE p1 FROM 'SELECT 1'
// did, as does SIGNAL with a short message. Until vitess writes the
// length, okInfoMinLen pads short messages with spaces to exactly 35
// bytes, which makes '#' their true length. pymysql and Go's driver read
// the message as the packet's rest or not at all, so nothing changes for
// them but trailing spaces.
const okInfoMinLen = '#'

// fixOKInfo pads r's OK-packet message for vitess (see above).
func fixOKInfo(r *sqltypes.Result) {
	if r != nil && len(r.Fields) == 0 && r.Info != "" && len(r.Info) < okInfoMinLen {
		r.Info += strings.Repeat(" ", okInfoMinLen-len(r.Info))
	}
}
