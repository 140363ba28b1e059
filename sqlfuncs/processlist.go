package sqlfuncs

import (
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
)

// showProcessList builds SHOW PROCESSLIST as go-mysql-server does, except
// for the State column, which it builds as a tree of progress entries
// over several lines. Here State is one short line: a query that calls a
// model shows its progress ("generate(): 3 of 4 rows done, ..."), another
// its scans' progress, and a query without any "running".
func showProcessList(ctx *sql.Context) sql.RowIter {
	procs := ctx.ProcessList.Processes()
	rows := make([]sql.Row, len(procs))
	for i, p := range procs {
		rows[i] = sql.NewRow(int64(p.Connection), p.User, p.Host, nullIfEmpty(p.Database), string(p.Command),
			int64(p.Seconds()), processState(p), p.Query)
	}
	return sql.RowsToRowIter(rows...)
}

func processState(p sql.Process) string {
	var ours, others []string
	for name, prog := range p.Progress {
		if strings.HasPrefix(name, progressStatePrefix) {
			ours = append(ours, name)
		} else {
			others = append(others, prog.String())
		}
	}
	sort.Strings(ours)
	sort.Strings(others)
	state := strings.Join(ours, "; ")
	if state == "" {
		state = strings.Join(others, ", ")
	}
	if state == "" && p.Command == sql.ProcessCommandQuery {
		state = "running"
	}
	return strings.Join(strings.Fields(state), " ")
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
