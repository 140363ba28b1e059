package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// TestServeRemoteKeyEnv: a SQL user picks both a remote model's endpoint and
// the environment variable whose value is sent there as its key, so only
// LLMSQL_*, OPENAI_API_KEY and the variables --remote-key-env lists may be
// named; any other is refused before a client is made, naming the flag.
func TestServeRemoteKeyEnv(t *testing.T) {
	t.Setenv("LLMSQL_TEST_KEY", "k1")
	t.Setenv("LLMSQL_TEST_SECRET_ELSEWHERE", "k2")
	t.Setenv("TEST_VLLM_KEY", "k3")
	cfg := serveConfig{Memory: true, RemoteKeyEnv: []string{"TEST_VLLM_KEY"}}
	ts := newServer(t, cfg, fakeEngine)
	db := ts.db()
	register := func(name, env string) error {
		_, err := db.Exec("INSERT INTO llm.models (name, endpoint, remote_model, api_key_env) VALUES (?, 'http://127.0.0.1:9/v1', 'm', ?)", name, env)
		return err
	}
	for _, env := range []string{"HOME", "PATH", "AWS_SECRET_ACCESS_KEY", "llmsql_lower", "XLLMSQL_KEY"} {
		err := register("r_"+strings.ToLower(env), env)
		if err == nil || !strings.Contains(err.Error(), "does not let SQL read") || !strings.Contains(err.Error(), "--remote-key-env "+env) {
			t.Errorf("api_key_env %s: %v", env, err)
		}
	}
	expectRows(t, db, "SELECT COUNT(*) FROM llm.models WHERE endpoint IS NOT NULL", "0")
	for _, env := range []string{"LLMSQL_TEST_KEY", "TEST_VLLM_KEY"} {
		if err := register("ok_"+strings.ToLower(env), env); err != nil {
			t.Errorf("api_key_env %s: %v", env, err)
		}
	}
	// Allowed but unset is still refused, as before.
	if err := register("unset", "LLMSQL_TEST_UNSET_KEY"); err == nil || !strings.Contains(err.Error(), "not set") {
		t.Errorf("an unset variable: %v", err)
	}
	expectRows(t, db, "SELECT name, api_key_env FROM llm.models WHERE endpoint IS NOT NULL ORDER BY name",
		"ok_llmsql_test_key|LLMSQL_TEST_KEY", "ok_test_vllm_key|TEST_VLLM_KEY")

	c, err := parseServe([]string{"--remote-key-env", " VLLM_KEY, ,HF_TOKEN"}, io.Discard)
	if err != nil || !slices.Equal(c.RemoteKeyEnv, []string{"VLLM_KEY", "HF_TOKEN"}) {
		t.Fatalf("--remote-key-env: %q, %v", c.RemoteKeyEnv, err)
	}
}
