package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
	validator "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/llmsql/llmsql/engine"
	"github.com/llmsql/llmsql/engine/chattmpl"
	"github.com/llmsql/llmsql/engine/jsonschema"
	"github.com/llmsql/llmsql/httpapi"
	"github.com/llmsql/llmsql/internal/testutil"
)

// response_format through the official client on a real model
// (stories260K): json_schema replies parse and validate against the
// schema and equal the engine's generation under the schema's grammar (what
// generate()'s json_schema option runs); json_object replies are objects;
// a schema the converter refuses is a 400 naming response_format.
func TestResponseFormat(t *testing.T) {
	pool := engine.NewPool(engine.PoolConfig{Threads: 1, ResultCacheBytes: -1})
	t.Cleanup(pool.Close)
	if _, err := pool.Register("stories", testutil.Shared(t, "models/stories260K.gguf")); err != nil {
		t.Fatal(err)
	}
	_, c := serve(t, pool, httpapi.Config{APIKey: key})
	ctx := context.Background()

	schema := `{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":1,"maximum":99},"mood":{"enum":["happy","sad"]}},"required":["name","age","mood"],"additionalProperties":false}`
	// As raw JSON, so the properties keep their order (a Go map would sort
	// them, and the grammar writes them in the schema's order).
	schemaObj := json.RawMessage(schema)
	comp := validator.NewCompiler()
	doc, err := validator.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := comp.AddResource("s.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("s.json")
	if err != nil {
		t.Fatal(err)
	}
	g, err := jsonschema.ToGrammar([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"Once upon a time", "The little dog", "Lily wanted"} {
		params := openai.ChatCompletionNewParams{Model: "stories",
			Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage(p)},
			Temperature: openai.Float(0), MaxTokens: openai.Int(80),
			ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "person", Schema: schemaObj, Strict: openai.Bool(true)}}}}
		got, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		text := got.Choices[0].Message.Content
		if got.Choices[0].FinishReason != "stop" {
			t.Fatalf("%q: finish_reason %q after %q", p, got.Choices[0].FinishReason, text)
		}
		v, err := validator.UnmarshalJSON(strings.NewReader(text))
		if err != nil {
			t.Fatalf("%q: reply %q is not JSON: %v", p, text, err)
		}
		if err := sch.Validate(v); err != nil {
			t.Fatalf("%q: reply %q does not validate: %v", p, text, err)
		}
		o := greedyOpts(80)
		o.Grammar = g
		want, err := pool.Run(ctx, "stories", engine.Request{Messages: []chattmpl.Message{{Role: "user", Content: p}}, Options: o})
		if err != nil {
			t.Fatal(err)
		}
		if want.Text != text {
			t.Errorf("%q: HTTP reply %q, engine %q", p, text, want.Text)
		}
	}

	obj, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "stories",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Once upon a time")},
		Temperature: openai.Float(0), MaxTokens: openai.Int(120),
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}})
	if err != nil {
		t.Fatal(err)
	}
	if text := obj.Choices[0].Message.Content; obj.Choices[0].FinishReason == "stop" {
		var m map[string]any
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			t.Errorf("json_object reply %q: %v", text, err)
		}
	} else if !strings.HasPrefix(strings.TrimSpace(text), "{") {
		t.Errorf("json_object reply cut at max_tokens does not start an object: %q", text)
	}

	_, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "stories",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "bad", Schema: map[string]any{"type": "string", "format": "email"}}}}})
	if e := apiError(t, err, 400); e.Param != "response_format" || !strings.Contains(e.Message, "email") {
		t.Errorf("unsupported schema: %s", e.RawJSON())
	}
}
