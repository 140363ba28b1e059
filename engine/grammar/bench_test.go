package grammar

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// personGrammar is what a JSON-schema converter writes (llama.cpp's, for
// testdata/bench_person_schema.json) for an object with a name, an age
// from 0 to 150, an optional email, up to five tags, a status enum and a
// nested address with a five-digit zip.
const personGrammar = `address ::= "{" space address-street-kv "," space address-city-kv "," space address-zip-kv space "}"
address-city-kv ::= "\"city\"" space ":" space string
address-kv ::= "\"address\"" space ":" space address
address-street-kv ::= "\"street\"" space ":" space string
address-zip ::= "\"" (address-zip-1{5,5}) "\""
address-zip-1 ::= [0-9]
address-zip-kv ::= "\"zip\"" space ":" space address-zip
age ::= ([0-9] | ([1-8] [0-9] | [9] [0-9]) | "1" ([0-4] [0-9] | [5] "0"))
age-kv ::= "\"age\"" space ":" space age
char ::= [^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4})
email-kv ::= "\"email\"" space ":" space string
email-rest ::= ( "," space tags-kv )?
name-kv ::= "\"name\"" space ":" space string
root ::= "{" space name-kv "," space age-kv "," space status-kv "," space address-kv ( "," space ( email-kv email-rest | tags-kv ) )? space "}"
space ::= | " " | "\n"{1,2} [ \t]{0,20}
status ::= ("\"active\"" | "\"inactive\"" | "\"banned\"")
status-kv ::= "\"status\"" space ":" space status
string ::= "\"" char* "\""
tags ::= "[" space (string ("," space string){0,4})? space "]"
tags-kv ::= "\"tags\"" space ":" space tags
`

// personDocs writes n documents that person's grammar accepts, as a model
// might: varied names and words (some non-ASCII), spacing styles, optional
// fields present or not.
func personDocs(rng *rand.Rand, n int) []string {
	first := []string{"Ada", "Grace", "Linus", "Zoë", "José", "Mei", "Olúwaseun", "Søren", "Priya", "John", "Ивана", "美咲"}
	last := []string{"Lovelace", "Hopper", "Torvalds", "García", "Nakamura", "Okafor", "Jensen", "Sharma", "Smith", "Петрова", "佐藤"}
	words := []string{"engineer", "admin", "beta", "vip", "remote", "night-shift", "on call", "contractor", "team \"blue\"", "café"}
	streets := []string{"Main St", "Baker Street", "Rue de Rivoli", "Unter den Linden", "1st Avenue", "Calle Mayor 7"}
	cities := []string{"London", "Paris", "Berlin", "New York", "Madrid", "Tōkyō", "São Paulo", "Zürich"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
	var docs []string
	for range n {
		sep := ", "
		colon := ": "
		if rng.IntN(2) == 0 {
			sep, colon = ",", ":"
		}
		name := pick(first) + " " + pick(last)
		var b strings.Builder
		fmt.Fprintf(&b, `{"name"%s%s%s"age"%s%d%s"status"%s%s%s"address"%s{"street"%s%s%s"city"%s%s%s"zip"%s"%05d"}`,
			colon, q(name), sep, colon, rng.IntN(151), sep, colon, q(pick([]string{"active", "inactive", "banned"})), sep,
			colon, colon, q(pick(streets)), sep, colon, q(pick(cities)), sep, colon, rng.IntN(100000))
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, `%s"email"%s%s`, sep, colon, q(strings.ToLower(strings.ReplaceAll(name, " ", "."))+"@example.com"))
		}
		if rng.IntN(2) == 0 {
			tags := make([]string, rng.IntN(4))
			for i := range tags {
				tags[i] = q(pick(words))
			}
			fmt.Fprintf(&b, `%s"tags"%s[%s]`, sep, colon, strings.Join(tags, sep))
		}
		b.WriteString("}")
		docs = append(docs, b.String())
	}
	return docs
}

// maskStep is the grammar's share of one sampling step as the sampler
// takes it: the mask for the current state, the logits copied with the
// disallowed ones set to -inf, the best allowed token found, and the
// chosen token accepted.
func maskStep(m *Matcher, logits, scratch []float32, tok int32) error {
	mask := m.Mask()
	copy(scratch, logits)
	best := int32(-1)
	for w, bits := range mask {
		base := w * 64
		if bits == 0 {
			for i := base; i < base+64 && i < len(scratch); i++ {
				scratch[i] = float32(math.Inf(-1))
			}
			continue
		}
		for i := base; i < base+64 && i < len(scratch); i++ {
			if bits&(1<<uint(i-base)) == 0 {
				scratch[i] = float32(math.Inf(-1))
			} else if best < 0 || scratch[i] > scratch[best] {
				best = int32(i)
			}
		}
	}
	_ = best
	return m.Accept(tok)
}

// TestMaskCostQwen3 reports what the grammar costs per token on the Qwen3
// vocabulary (151,936 tokens): for a statement's first row (every state
// new), and once the compiled grammar's caches are warm (later rows).
// Timing only; run with -v to see the figures, and see
// BenchmarkMaskQwen3 for the benchmark proper.
func TestMaskCostQwen3(t *testing.T) {
	if testing.Short() {
		t.Skip("timing report")
	}
	tv := loadVocab(t, "qwen3")
	g, err := Parse(personGrammar)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	docs := personDocs(rng, 200)
	logits := make([]float32, tv.v.n)
	for i := range logits {
		logits[i] = rng.Float32()
	}
	scratch := make([]float32, tv.v.n)
	c := mustCompile(t, g, tv.v)
	var coldTime, warmTime time.Duration
	var coldTok, warmTok int
	for i, d := range docs {
		toks := tv.tok.Encode(d, false, false)
		m := c.NewMatcher()
		start := time.Now()
		for _, tok := range toks {
			if err := maskStep(m, logits, scratch, tok); err != nil {
				t.Fatalf("doc %d %q: %v", i, d, err)
			}
		}
		if !m.Complete() {
			t.Fatalf("doc %d incomplete", i)
		}
		el := time.Since(start)
		if i == 0 {
			coldTime, coldTok = el, len(toks)
		} else if i >= 100 {
			warmTime += el
			warmTok += len(toks)
		}
	}
	t.Logf("first row: %d tokens, %.0f µs/token; rows 100-199: %d tokens, %.1f µs/token; %d states",
		coldTok, float64(coldTime.Microseconds())/float64(coldTok), warmTok, float64(warmTime.Microseconds())/float64(warmTok), len(c.cur.u.sets))
}

func TestColdProfile(t *testing.T) {
	tv := loadVocab(t, "qwen3")
	t.Logf("trie nodes %d, tokens %d", tv.v.TrieNodes(), tv.v.n)
	g, _ := Parse(personGrammar)
	rng := rand.New(rand.NewPCG(1, 2))
	docs := personDocs(rng, 30)
	start := time.Now()
	ntok := 0
	masks := 0
	for _, d := range docs {
		c := mustCompile(t, g, tv.v)
		m := c.NewMatcher()
		toks := tv.tok.Encode(d, false, false)
		ntok += len(toks)
		for _, tok := range toks {
			m.Mask()
			m.Accept(tok)
		}
		masks += len(c.cur.u.sets)
	}
	t.Logf("cold: %.0f µs/token, %d sets", float64(time.Since(start).Microseconds())/float64(ntok), masks)
}
