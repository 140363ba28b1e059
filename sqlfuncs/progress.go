package sqlfuncs

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
)

// progressStatePrefix starts a query's line in SHOW PROCESSLIST.
const progressStatePrefix = "generate(): "

// MaxProgressQuery is the longest query text a progress report keeps.
const MaxProgressQuery = 256

// QueryProgress is a snapshot of a running query's generate() work.
type QueryProgress struct {
	ConnectionID    uint32
	QueryID         uint64 // go-mysql-server's process id of the query
	Query           string // truncated to MaxProgressQuery bytes
	Started         time.Time
	RowsSubmitted   int64 // rows whose generate() calls were started
	RowsDone        int64 // rows whose calls have finished
	TokensGenerated int64
	TokensPerSecond float64 // since Started
	// The prompts of summarize_agg() and reduce_agg() (whose groups count
	// as rows): started and finished, and the deepest map-reduce level
	// started (1 = the rows' texts, 2 = combining their answers, ...).
	ChunksSubmitted int64
	ChunksDone      int64
	Levels          int64
}

// Tracker follows the queries that are running generate() calls through
// the batching hook. The zero value is not usable: use NewTracker.
type Tracker struct {
	mu      sync.Mutex
	queries map[queryKey]*queryProgress
}

type queryKey struct {
	conn uint32
	pid  uint64
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{queries: map[queryKey]*queryProgress{}} }

// Running returns the running queries, oldest first.
func (t *Tracker) Running() []QueryProgress {
	t.mu.Lock()
	qs := make([]*queryProgress, 0, len(t.queries))
	for _, q := range t.queries {
		qs = append(qs, q)
	}
	t.mu.Unlock()
	out := make([]QueryProgress, len(qs))
	for i, q := range qs {
		out[i] = q.snapshot()
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].QueryID < out[j].QueryID
	})
	return out
}

// acquire returns the progress record of ctx's query, creating it on first
// use; every acquire is paired with a release.
func (t *Tracker) acquire(ctx *sql.Context) *queryProgress {
	if t == nil {
		return nil
	}
	var conn uint32
	if ctx.Session != nil {
		conn = ctx.Session.ID()
	}
	k := queryKey{conn, ctx.Pid()}
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.queries[k]
	if q == nil {
		query := ctx.Query()
		if len(query) > MaxProgressQuery {
			query = query[:MaxProgressQuery]
		}
		q = &queryProgress{t: t, key: k, query: query, started: time.Now(), pl: ctx.ProcessList}
		t.queries[k] = q
	}
	q.refs++
	return q
}

func (t *Tracker) release(q *queryProgress) {
	if q == nil {
		return
	}
	t.mu.Lock()
	q.refs--
	last := q.refs == 0
	if last && t.queries[q.key] == q {
		delete(t.queries, q.key)
	}
	t.mu.Unlock()
	if last {
		q.clearState()
	}
}

// queryProgress counts one query's work. Its methods accept a nil
// receiver (no tracker), so callers need not check.
type queryProgress struct {
	t       *Tracker
	key     queryKey
	query   string
	started time.Time
	refs    int // guarded by t.mu

	submitted, done, tokens    atomic.Int64
	chunks, chunksDone, levels atomic.Int64

	// The query's line in SHOW PROCESSLIST shows the counts in its State
	// column (Info holds the query text and go-mysql-server offers no way
	// to change it).
	stateMu sync.Mutex
	pl      sql.ProcessList
	state   string
	ended   bool // released: a late call must not bring the line back
}

func (q *queryProgress) rowSubmitted() {
	if q != nil {
		q.submitted.Add(1)
		q.publish()
	}
}

func (q *queryProgress) rowDone() {
	if q != nil {
		q.done.Add(1)
		q.publish()
	}
}

// chunkSubmitted counts a prompt of an aggregate at level (0 = the rows'
// texts).
func (q *queryProgress) chunkSubmitted(level int) {
	if q == nil {
		return
	}
	q.chunks.Add(1)
	for {
		l := q.levels.Load()
		if int64(level+1) <= l || q.levels.CompareAndSwap(l, int64(level+1)) {
			break
		}
	}
	q.publish()
}

func (q *queryProgress) chunkDone() {
	if q != nil {
		q.chunksDone.Add(1)
		q.publish()
	}
}

func (q *queryProgress) addTokens(n int64) {
	if q != nil && n != 0 {
		q.tokens.Add(n)
	}
}

func (q *queryProgress) snapshot() QueryProgress {
	s := QueryProgress{
		ConnectionID: q.key.conn, QueryID: q.key.pid, Query: q.query, Started: q.started,
		RowsSubmitted: q.submitted.Load(), RowsDone: q.done.Load(), TokensGenerated: q.tokens.Load(),
		ChunksSubmitted: q.chunks.Load(), ChunksDone: q.chunksDone.Load(), Levels: q.levels.Load(),
	}
	if secs := time.Since(q.started).Seconds(); secs > 0 {
		s.TokensPerSecond = float64(s.TokensGenerated) / secs
	}
	return s
}

// publish shows the counts in the process list. go-mysql-server prints
// each progress entry as "NAME (DONE/TOTAL partitions)", so the whole
// report goes in the name.
func (q *queryProgress) publish() {
	if q.pl == nil {
		return
	}
	s := q.snapshot()
	state := fmt.Sprintf(progressStatePrefix+"%d of %d rows done, %d tokens",
		s.RowsDone, s.RowsSubmitted, s.TokensGenerated)
	if s.ChunksSubmitted > 0 {
		state += fmt.Sprintf(", %d of %d prompts done, level %d", s.ChunksDone, s.ChunksSubmitted, s.Levels)
	}
	q.stateMu.Lock()
	defer q.stateMu.Unlock()
	if q.ended {
		return
	}
	if q.state != "" {
		q.pl.RemoveTableProgress(q.key.pid, q.state)
	}
	q.state = state
	q.pl.AddTableProgress(q.key.pid, state, 0)
}

func (q *queryProgress) clearState() {
	q.stateMu.Lock()
	defer q.stateMu.Unlock()
	q.ended = true
	if q.pl != nil && q.state != "" {
		q.pl.RemoveTableProgress(q.key.pid, q.state)
	}
	q.state = ""
}
