// Package httpapi serves llmsql's models over OpenAI's HTTP API, so that
// any OpenAI client (the official SDKs, LangChain, another llmsql's remote
// models) can use them:
//
//	POST /v1/chat/completions   a reply to a conversation (stream: server-sent events)
//	POST /v1/completions        a completion of a prompt as it is (stream too)
//	POST /v1/embeddings         vectors of texts, when the backend embeds
//	GET  /v1/models             the registered models
//	GET  /v1/models/{id}        one of them
//	GET  /health                {"status": "ok"}
//
// Requests run on the same Backend as the SQL functions (an *engine.Pool),
// so they share its schedulers (an HTTP request and a SQL row decode in the
// same forward passes), its result cache and its usage counts.
//
// Errors use OpenAI's shape, {"error": {"message", "type", "param",
// "code"}}, with its status codes: 400 for a bad request, 401 for a missing
// or wrong bearer token, 404 for an unknown model, 429 when more requests
// are admitted than Config.MaxQueue, 503 while a model is not ready yet
// (still downloading) or cannot be loaded for now.
package httpapi
