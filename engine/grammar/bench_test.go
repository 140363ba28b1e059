package grammar

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
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

// personTokens is n person documents tokenized with the Qwen3 vocabulary,
// as a model writing them would emit them.
func personTokens(b testing.TB, tv *testVocab, n int) [][]int32 {
	rng := rand.New(rand.NewPCG(1, 2))
	var out [][]int32
	for _, d := range personDocs(rng, n) {
		out = append(out, tv.tok.Encode(d, false, false))
	}
	return out
}

// runDoc takes one document's tokens through m as a sampler does: the
// mask for each state, then the token accepted.
func runDoc(b testing.TB, m *Matcher, toks []int32) {
	for _, tok := range toks {
		if !MaskHas(m.Mask(), tok) {
			b.Fatalf("token %d not allowed", tok)
		}
		if err := m.Accept(tok); err != nil {
			b.Fatal(err)
		}
	}
	if !m.Complete() {
		b.Fatal("document incomplete")
	}
}

// BenchmarkMaskQwen3 measures the grammar's cost per generated token (the
// token mask of each state, and accepting the token) for a JSON-schema
// grammar on the Qwen3 vocabulary (151,936 tokens). "first-row" starts
// every document with a freshly compiled grammar, so every state's mask is
// computed; "warm" shares one compiled grammar across documents, as the
// rows of a statement do, after 100 documents have filled its caches.
func BenchmarkMaskQwen3(b *testing.B) {
	tv := loadVocab(b, "qwen3")
	g, err := Parse(personGrammar)
	if err != nil {
		b.Fatal(err)
	}
	docs := personTokens(b, tv, 200)
	perToken := func(b *testing.B, tokens int) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(tokens)/1e3, "µs/token")
	}
	b.Run("first-row", func(b *testing.B) {
		tokens := 0
		for i := 0; b.Loop(); i++ {
			d := docs[i%len(docs)]
			runDoc(b, mustCompile(b, g, tv.v).NewMatcher(), d)
			tokens += len(d)
		}
		perToken(b, tokens)
	})
	b.Run("warm", func(b *testing.B) {
		c := mustCompile(b, g, tv.v)
		for _, d := range docs[:100] {
			runDoc(b, c.NewMatcher(), d)
		}
		tokens := 0
		for i := 0; b.Loop(); i++ {
			d := docs[100+i%100]
			runDoc(b, c.NewMatcher(), d)
			tokens += len(d)
		}
		perToken(b, tokens)
	})
}

// BenchmarkVocabQwen3 measures preparing the Qwen3 vocabulary (once per
// loaded model).
func BenchmarkVocabQwen3(b *testing.B) {
	tv := loadVocab(b, "qwen3")
	for b.Loop() {
		NewVocab(tv.tok.VocabSize(), func(id int32) []byte { return []byte(tv.tok.PieceSpecial(id)) }, tv.tok.IsEOG)
	}
}
