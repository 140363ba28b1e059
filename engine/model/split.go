package model

import (
	"sync/atomic"

	"github.com/llmsql/llmsql/engine/kvcache"
	"github.com/llmsql/llmsql/engine/tensor"
)

// A pass split by sequence.
//
// The team's pass (pass) splits every op across the members: rows of the
// weights for a matrix product, tokens for the per-token work, (token,
// head) pairs for attention. Between ops the members meet at a barrier and
// read what the others wrote. For a model whose weights are megabytes that
// exchange costs more than the arithmetic. On this project's 2-vCPU
// machine a cache line goes from one core to the other and back in
// 215-265 ns in some hours and 950-1,070 ns in others (the host places
// the vCPUs), and a decode step of stories260K (1 MB of weights) meets at
// about 45 barriers and hands its activations across at most of them. In the
// slow hours two threads decoded 4 sequences at half the speed of one
// (34-36K against 64-66K tokens/s) and 64 only 1.05x faster.
//
// Split instead, each member runs the whole pass for its own sequences, as
// a team of one (tensor.Pool.RunEach): its tokens' activations and cache
// rows never leave its core, and nothing waits until the pass ends. Each
// member reads all the weights rather than its share of them, which a
// model that fits the caches does not notice and a large one would (so
// large models keep the team). A sequence's tokens stay together in one
// part, in batch order, so each part is a batch the model could have run
// alone: its prompt runs and decode steps the same, the same kernels on
// the same groups of tokens, and the logits the same bits as the team's.
//
// stories260K, 2 threads, `llmsql bench -p 18 -n 24 --sequences 4,16,64
// -r 5`, slow hours, three interleaved rounds: generation 74-79K, 111-131K
// and 108-115K tokens/s split, against 34-36K, 61-70K and 87-93K on the
// team. In fast hours the split still won at 4-16 sequences (by 4-18%),
// and the team was 6-14% faster at 32-64.

// splitBytes: models with at most this many bytes of weights split a
// pass by sequence when it has two or more (see above). Synthetic models,
// generation split against the team (one run each of 4, 16 and 64
// sequences, twice): 3.4 MB (Q4_0) +18-20%, 0-7%, -1-7%; 4.2 MB (F32)
// +31-44%, -3%, +4-7%; 6.3 MB (Q8_0) +4-7%, -3-5%, -9--3%; 23 MB (F32),
// each core now reading all of it, -13--25%, -9--10%, -1-1%.
const splitBytes = 8 << 20

// split assigns b's sequences to the members and builds each member's
// part, reporting false when b does not split: an embedding batch, a
// sequence whose tokens are not consecutive in b, fewer sequences than
// two, or parts too uneven to gain (one sequence's long prompt beside a
// few decode steps runs faster on the team).
func (s *State) split(b *Batch, kv *kvcache.Cache) bool {
	w := s.pool.Threads()
	if w < 2 || len(b.Embed) > 0 || s.m.WeightBytes > s.splitBelow {
		return false
	}
	n := b.Len()
	if cap(s.part) < n {
		s.part = make([]int32, n)
	}
	part := s.part[:n]
	if len(s.parts) < w {
		s.parts = make([]splitPart, w)
	}
	parts := s.parts[:w]
	for i := range parts {
		parts[i].tokens = 0
		parts[i].claimed.Store(false)
	}
	// Sequences in batch order, each to the member with the fewest
	// tokens so far (the first among equals): decode steps alternate, and
	// a prompt goes where it evens the load.
	if slots := kv.Config().Slots; len(s.seqSeen) < slots {
		s.seqSeen = make([]bool, slots)
	}
	seen := s.seqSeen
	defer clear(seen)
	seqs := 0
	for i := 0; i < n; {
		seq := b.Seq[i]
		j := i + 1
		for j < n && b.Seq[j] == seq {
			j++
		}
		if seen[seq] {
			return false // the sequence came earlier, not consecutively
		}
		seen[seq] = true
		least := 0
		for k := range parts {
			if parts[k].tokens < parts[least].tokens {
				least = k
			}
		}
		for t := i; t < j; t++ {
			part[t] = int32(least)
		}
		parts[least].tokens += j - i
		seqs++
		i = j
	}
	if seqs < 2 {
		return false
	}
	most := 0
	for k := range parts {
		most = max(most, parts[k].tokens)
	}
	if 4*most > 3*n && n >= 8 {
		return false // a part with over three quarters of the tokens
	}
	// Each part's batch: its tokens in batch order (decode steps first,
	// as in b), and where each came from.
	for k := range parts {
		p := &parts[k]
		p.b.Reset()
		p.from = p.from[:0]
	}
	for i := 0; i < n; i++ {
		p := &parts[part[i]]
		p.b.Add(b.Tokens[i], b.Pos[i], b.Seq[i], b.Logits[i])
		p.from = append(p.from, i)
		if i < b.Decode {
			p.b.Decode++
		}
	}
	return true
}

// splitPart is one member's share of a split pass.
type splitPart struct {
	st     *State // its own scratch: nothing shared with the others
	b      Batch
	from   []int // b's token i is the whole batch's token from[i]
	tokens int
	// claimed is set by the member that runs the part: its own, or, when
	// it has finished that, another's not yet begun (see runParts).
	claimed atomic.Bool
}

// runParts runs member i's part of a split pass on w, then any other part
// no member has begun. Members wake and reach the pass at different
// times: the caller at once, another when the Go scheduler runs it (60 us
// later on average here, but sometimes later than the caller's whole
// part, when the host has taken its vCPU); a part its owner has not
// begun by then is done by the caller rather than waited for.
func (s *State) runParts(i int, w *tensor.Worker) {
	if s.parts[i].claimed.CompareAndSwap(false, true) {
		s.runPart(i, w)
	}
	for j := range s.parts[:s.pool.Threads()] {
		if j != i && s.parts[j].claimed.CompareAndSwap(false, true) {
			s.runPart(j, w)
			s.partsTaken.Add(1)
		}
	}
}

// runPart runs part i of a split pass on w, a team of one, and
// copies its logits to their rows of the whole batch's.
func (s *State) runPart(i int, w *tensor.Worker) {
	p := &s.parts[i]
	if p.b.Len() == 0 {
		return
	}
	if p.st == nil {
		p.st = NewState(s.m, s.pool)
	}
	st := p.st
	if err := st.checkSpans(&p.b, s.kv); err != nil {
		panic(err) // b passed these checks whole
	}
	st.outputs(&p.b)
	st.scratch(&p.b)
	st.b, st.kv = &p.b, s.kv
	st.pass(w)
	st.b, st.kv = nil, nil
	v := s.m.Vocab
	for k, r := range st.rows[:st.nLogits] {
		dst := s.logitRow[p.from[r]]
		copy(s.logits[dst*v:(dst+1)*v], st.logits[k*v:(k+1)*v])
	}
}

// logitRows numbers the rows that want logits in batch order
// (s.logitRow[i] for token i), where the parts copy theirs.
func (s *State) logitRows(b *Batch) {
	if cap(s.logitRow) < b.Len() {
		s.logitRow = make([]int, b.Len())
	}
	s.logitRow = s.logitRow[:b.Len()]
	r := 0
	for i, want := range b.Logits {
		s.logitRow[i] = r
		if want {
			r++
		}
	}
}
