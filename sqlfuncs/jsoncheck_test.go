package sqlfuncs

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckReply: a reply that is not JSON, does not validate or holds a
// number SQL's JSON cannot is the row's failure (a RowError, so on_error
// applies); a valid one passes as it is.
func TestCheckReply(t *testing.T) {
	schema := `{"type":"object","properties":{"n":{"type":"integer","maximum":9},"s":{"type":"string","maxLength":2}},"required":["n"]}`
	if got, err := checkReply(schema, `{"n": 3, "s": "ab"}`); err != nil || got != `{"n": 3, "s": "ab"}` {
		t.Fatalf("a valid reply: %q, %v", got, err)
	}
	for reply, want := range map[string]string{
		`{"n": 3`:              "the reply is not JSON",
		`{"n": 12}`:            "does not validate against the schema",
		`{"s": "abc", "n": 1}`: "maxLength",
		`{"n": 1e999}`:         "does not validate", // the validator's big numbers exceed maximum
	} {
		_, err := checkReply(schema, reply)
		var re *RowError
		if err == nil || !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a RowError containing %q", reply, err, want)
		}
	}
	if _, err := checkReply(`{"type": "number"}`, `5e400`); err == nil || !strings.Contains(err.Error(), "SQL's JSON type cannot hold") {
		t.Errorf("a number past float64: %v", err)
	}
	// References outside the schema are never loaded.
	for _, ref := range []string{"file:///etc/passwd", "http://example.com/s.json"} {
		if _, err := compiledSchema(`{"$ref": "` + ref + `"}`); err == nil || !strings.Contains(err.Error(), "not loaded") {
			t.Errorf("$ref %s: %v", ref, err)
		}
	}
}
