package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServeOKPacketMessage: the OK packet's message parses as the
// length-encoded string MySQL's and MariaDB's clients read. vitess wrote
// '#' and the message, which those clients read as a length of 35, so
// PREPARE p1 FROM 'SELECT 1' ("Statement prepared") failed in the mysql
// command-line client with "Received malformed packet".
func TestServeOKPacketMessage(t *testing.T) {
	ts := newServer(t, serveConfig{Memory: true}, fakeEngine)
	c := rawLogin(t, ts.srv.Addr())
	for _, q := range []struct{ query, info string }{
		{"PREPARE p1 FROM 'SELECT 1'", "Statement prepared"},
		{"CREATE TABLE t (a INT)", ""},
		{"INSERT INTO t VALUES (1), (2)", ""},
		{"UPDATE t SET a = a + 1", "Rows matched: 2  Changed: 2  Warnings: 0"},
	} {
		info, err := c.okInfo(q.query)
		if err != nil {
			t.Fatalf("%s: %v", q.query, err)
		}
		if strings.TrimRight(info, " ") != q.info {
			t.Errorf("%s: message %q, want %q", q.query, info, q.info)
		}
	}

	// The command-line client itself, where it is installed.
	cli, err := exec.LookPath("mysql")
	if err != nil {
		t.Log("no mysql command-line client; checked the packets only")
		return
	}
	host, port, _ := net.SplitHostPort(ts.srv.Addr())
	out, err := exec.Command(cli, "-h", host, "-P", port, "-uroot", "-vvv", "-e",
		"PREPARE p2 FROM 'SELECT 41 + ?'; SET @x = 1; EXECUTE p2 USING @x; DEALLOCATE PREPARE p2").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Statement prepared") || !strings.Contains(string(out), "42") {
		t.Fatalf("mysql client: %v\n%s", err, out)
	}
}

// rawConn is just enough of MySQL's client protocol to log in as root
// without a password and read the OK packet of a statement byte by byte.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func rawLogin(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(time.Minute))
	c := &rawConn{t: t, nc: nc, r: bufio.NewReader(nc)}
	if _, _, err := c.read(); err != nil { // the server's greeting
		t.Fatal(err)
	}
	const (
		longPassword     = 0x1
		protocol41       = 0x200
		secureConnection = 0x8000
		pluginAuth       = 0x80000
	)
	var p []byte
	p = binary.LittleEndian.AppendUint32(p, longPassword|protocol41|secureConnection|pluginAuth)
	p = binary.LittleEndian.AppendUint32(p, 1<<24)
	p = append(p, 33)
	p = append(p, make([]byte, 23)...)
	p = append(p, "root\x00"...)
	p = append(p, 0) // no auth response
	p = append(p, "mysql_native_password\x00"...)
	if err := c.write(1, p); err != nil {
		t.Fatal(err)
	}
	if _, resp, err := c.read(); err != nil || resp[0] != 0 {
		t.Fatalf("login: %v %q", err, resp)
	}
	return c
}

func (c *rawConn) write(seq byte, payload []byte) error {
	h := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), seq}
	_, err := c.nc.Write(append(h, payload...))
	return err
}

func (c *rawConn) read() (byte, []byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return 0, nil, err
	}
	p := make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	_, err := io.ReadFull(c.r, p)
	return h[3], p, err
}

// okInfo runs query and returns its OK packet's message, read as MySQL's
// and MariaDB's C clients read it: a length-encoded string that must lie
// in the packet, shown as the C string from its start.
func (c *rawConn) okInfo(query string) (string, error) {
	if err := c.write(0, append([]byte{3}, query...)); err != nil {
		return "", err
	}
	_, p, err := c.read()
	if err != nil {
		return "", err
	}
	if p[0] != 0 {
		return "", fmt.Errorf("not an OK packet: %q", p)
	}
	pos := 1
	for range 2 { // affected rows, last insert id
		pos += lenEncSize(p[pos])
	}
	pos += 4 // status, warnings
	if pos == len(p) {
		return "", nil
	}
	if p[pos] >= 0xfb {
		return "", fmt.Errorf("message length byte %#x", p[pos])
	}
	n := int(p[pos])
	pos++
	if pos+n > len(p) {
		return "", fmt.Errorf("message of %d bytes runs past the packet (%d bytes left): %q", n, len(p)-pos, p)
	}
	// C clients then show the message as a C string, which runs to the
	// packet's end: a message longer than 35 bytes is shown whole.
	return string(p[pos:]), nil
}

func lenEncSize(b byte) int {
	switch b {
	case 0xfc:
		return 3
	case 0xfd:
		return 4
	case 0xfe:
		return 9
	}
	return 1
}
