package chattmpl

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// golden is testdata/golden.json, written by testdata/gen.py with Python's
// jinja2 set up as Hugging Face's apply_chat_template sets it up.
type golden struct {
	Now   string            `json:"now"`
	Parts map[string]string `json:"parts"`
	Cases []struct {
		Template     string                     `json:"template"`
		Conversation string                     `json:"conversation"`
		AGP          bool                       `json:"add_generation_prompt"`
		Variables    map[string]json.RawMessage `json:"variables"`
		Output       *string                    `json:"output"`
		Error        *struct {
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"cases"`
}

type spec struct {
	Conversations map[string]json.RawMessage `json:"conversations"`
	Templates     map[string]struct {
		BOS    string `json:"bos_token"`
		EOS    string `json:"eos_token"`
		Source string `json:"source"`
	} `json:"templates"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func compileFile(t *testing.T, dir, name string) *Template {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, "templates", name+".jinja"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Compile(string(src))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tmpl
}

// TestGolden renders every recorded case and wants jinja2's output byte
// for byte, or its error (raise_exception's message exactly).
func TestGolden(t *testing.T) {
	checkGolden(t, "testdata", 12, 300)
}

// TestExternalGolden checks templates kept outside the repository: set
// LLMSQL_CHATTMPL_DIR to a folder laid out as testdata (templates.json,
// templates/NAME.jinja) after running testdata/gen.py on it.
func TestExternalGolden(t *testing.T) {
	dir := os.Getenv("LLMSQL_CHATTMPL_DIR")
	if dir == "" {
		t.Skip("LLMSQL_CHATTMPL_DIR is not set")
	}
	checkGolden(t, dir, 1, 1)
}

func checkGolden(t *testing.T, dir string, minTemplates, minCases int) {
	var g golden
	var s spec
	readJSON(t, filepath.Join(dir, "golden.json"), &g)
	readJSON(t, filepath.Join(dir, "templates.json"), &s)
	now, err := time.Parse("2006-01-02T15:04:05", g.Now)
	if err != nil {
		t.Fatal(err)
	}
	real := 0
	for name := range s.Templates {
		if !strings.HasPrefix(name, "feature-") {
			real++
		}
	}
	if real < minTemplates || len(g.Cases) < minCases {
		t.Fatalf("golden set too small: %d real templates, %d cases", real, len(g.Cases))
	}
	compiled := map[string]*Template{}
	for _, c := range g.Cases {
		tmpl := compiled[c.Template]
		if tmpl == nil {
			tmpl = compileFile(t, dir, c.Template)
			compiled[c.Template] = tmpl
			if want := g.Parts[c.Template] == "parts"; tmpl.RendersParts() != want {
				t.Errorf("%s: RendersParts = %v, jinja2 probe says %v", c.Template, tmpl.RendersParts(), want)
			}
		}
		msgs, err := ParseMessages(s.Conversations[c.Conversation])
		if err != nil {
			t.Fatalf("%s: %v", c.Conversation, err)
		}
		vars := map[string]any{}
		for k, v := range c.Variables {
			vars[k] = v
		}
		meta := s.Templates[c.Template]
		out, err := tmpl.Render(msgs, Options{AddGenerationPrompt: c.AGP, BOS: meta.BOS, EOS: meta.EOS, Vars: vars, Now: func() time.Time { return now }})
		id := c.Template + "/" + c.Conversation
		if c.AGP {
			id += "+gen"
		}
		if len(c.Variables) > 0 {
			b, _ := json.Marshal(c.Variables)
			id += string(b)
		}
		switch {
		case c.Output != nil:
			if err != nil {
				t.Errorf("%s: %v, want %q", id, err, *c.Output)
			} else if out != *c.Output {
				t.Errorf("%s:\n got %q\nwant %q", id, out, *c.Output)
			}
		default:
			var te *Error
			if !errors.As(err, &te) {
				t.Errorf("%s: rendered %q (err %v), want error %q", id, out, err, c.Error.Message)
				continue
			}
			if te.Msg != c.Error.Message {
				t.Errorf("%s: error %q, want %q", id, te.Msg, c.Error.Message)
			}
			if te.Raised != (c.Error.Kind == "raise") {
				t.Errorf("%s: Raised = %v for a %s error", id, te.Raised, c.Error.Kind)
			}
		}
	}
}

func TestParseMessages(t *testing.T) {
	msgs, err := ParseMessages([]byte(`[{"content": "c", "role": "user", "name": "bob", "meta": {"z": 1, "a": [true, null]}},
		{"role": "assistant", "content": [{"type": "text", "text": "one"}, {"type": "image", "url": "x"}, {"type": "text", "text": "two"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].Role != "user" || msgs[0].Content != "c" || len(msgs[0].Fields) != 2 || msgs[0].Fields[1].Key != "meta" {
		t.Errorf("message 0: %+v", msgs[0])
	}
	if got := msgs[1].Text(); got != "one\ntwo" {
		t.Errorf("parts text %q", got)
	}
	for _, bad := range []struct{ in, want string }{
		{`[]`, "messages is empty"},
		{`{"role": "user"}`, "not an object"},
		{`"hi"`, "must be a JSON array"},
		{`[{"role": "user"}]`, `messages[0]: has no "content"`},
		{`[{"role": "user", "content": "a"}, {"content": "b"}]`, `messages[1]: has no "role"`},
		{`[{"role": 1, "content": "a"}]`, "role must be a string"},
		{`[{"role": "user", "content": 5}]`, "content must be a string"},
		{`[{"role": "user", "content": [{"text": "x"}]}]`, `content[0] must be an object with a "type"`},
		{`[{"role": "user", "content": [{"type": "text"}]}]`, `text part without "text"`},
		{`[1]`, "must be an object"},
		{`[{"role": "user", "content": "a"`, "must be a JSON array"},
	} {
		if _, err := ParseMessages([]byte(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err %v, want %q", bad.in, err, bad.want)
		}
	}
}

// Extra keys reach the template in the order given, as json.loads keeps
// them; Vars given as JSON keep theirs too.
func TestFieldsAndVars(t *testing.T) {
	tmpl, err := Compile(`{% for m in messages %}{{ m | tojson }};{% endfor %}{{ opts | tojson }}|{{ flag }}|{{ bos_token }}`)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ParseMessages([]byte(`[{"role": "user", "content": "hi", "z": {"b": 1, "a": "é"}, "a": null}]`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := tmpl.Render(msgs, Options{BOS: "<s>", Vars: map[string]any{"opts": json.RawMessage(`{"y": 2, "x": [1.5, "q"]}`), "flag": true}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"role": "user", "content": "hi", "z": {"b": 1, "a": "é"}, "a": null};{"y": 2, "x": [1.5, "q"]}|True|<s>`
	if out != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	if _, err := tmpl.Render(msgs, Options{Vars: map[string]any{"messages": 1}}); err == nil {
		t.Error("Vars may not set messages")
	}
	if _, err := tmpl.Render(nil, Options{}); err == nil {
		t.Error("an empty conversation renders")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, src := range []string{"{% if x %}never closed", "{{ 'unterminated }}", "{% for %}{% endfor %}"} {
		if _, err := Compile(src); err == nil {
			t.Errorf("%q compiled", src)
		} else if !errors.As(err, new(*Error)) {
			t.Errorf("%q: %T is not an *Error", src, err)
		}
	}
}

func TestChatML(t *testing.T) {
	msgs := []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Parts: []Part{{Type: "text", Text: "a"}, {Type: "text", Text: "b"}}}}
	out, err := ChatML().Render(msgs, Options{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	// llama.cpp's LLM_CHAT_TEMPLATE_CHATML writes exactly this.
	want := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\n"
	if out != want {
		t.Errorf("got %q want %q", out, want)
	}
}

func TestStrftime(t *testing.T) {
	at := time.Date(2025, 1, 5, 0, 7, 9, 123456000, time.UTC) // a Sunday
	// Python 3.11's datetime.strftime on Linux gives these.
	for f, want := range map[string]string{
		"%d %b %Y":          "05 Jan 2025",
		"%B %d, %Y":         "January 05, 2025",
		"%Y-%m-%d %H:%M:%S": "2025-01-05 00:07:09",
		"%a %A %w %j":       "Sun Sunday 0 005",
		"%I %p %y %f":       "12 AM 25 123456",
		"%-d %-m %e|%%|%q":  "5 1  5|%|%q",
		"%U %W":             "01 00",
		"%c|%x|%X|%F|%T":    "Sun Jan  5 00:07:09 2025|01/05/25|00:07:09|2025-01-05|00:07:09",
	} {
		if got := strftime(f, at); got != want {
			t.Errorf("%q: got %q want %q", f, got, want)
		}
	}
}

// Templates compile once and render from many goroutines (the SQL
// functions render one prompt per row).
func TestConcurrentRender(t *testing.T) {
	tmpl := compileFile(t, "testdata", "qwen3")
	msgs := []Message{{Role: "user", Content: "x"}}
	want, err := tmpl.Render(msgs, Options{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				got, err := tmpl.Render(msgs, Options{AddGenerationPrompt: true})
				if err != nil || got != want {
					t.Errorf("render %d: %q %v", j, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
