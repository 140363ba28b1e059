package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// stream writes server-sent events as OpenAI streams them: one
// "data: {json}" event per chunk and "data: [DONE]" at the end. The
// response starts (200, text/event-stream) with the first event, so that
// an error before any output still gets its own status.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newStream(w http.ResponseWriter) *stream {
	return &stream{w: w, rc: http.NewResponseController(w)}
}

func (s *stream) start() {
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
}

// send writes one event and flushes it; an error means the client is gone.
func (s *stream) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(s.w, "data: %s\n\n", b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// fail ends a started stream with an error event, as OpenAI's API does
// for an error after the first chunk.
func (s *stream) fail(e *apiError) {
	_ = s.send(e.body())
	s.done()
}

func (s *stream) done() {
	fmt.Fprint(s.w, "data: [DONE]\n\n")
	_ = s.rc.Flush()
}
