package chattmpl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Message is one turn of a conversation.
type Message struct {
	Role string
	// Content is the turn's text. When Parts is set the content was given
	// as parts instead, and Content is empty.
	Content string
	Parts   []Part
	// Fields are the message's other keys (reasoning_content, name, ...),
	// in the order given, handed to the template as they are.
	Fields []Field
}

// Part is one element of content given as parts. Only "text" parts carry
// text; others are passed to templates that read parts and skipped when
// parts are joined into a string.
type Part struct {
	Type string
	Text string
	raw  json.RawMessage // the part as given, for templates that read parts
}

// Field is an extra key of a message with its JSON value.
type Field struct {
	Key   string
	Value json.RawMessage
}

// Text is the message's content as one string: Content, or the text parts
// joined with "\n".
func (m Message) Text() string {
	if m.Parts == nil {
		return m.Content
	}
	var texts []string
	for _, p := range m.Parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// ParseMessages reads a conversation given as JSON: a non-empty array of
// objects with a string "role" and a "content" that is a string or an
// array of parts ({"type": "text", "text": ...}). Other keys are kept as
// Fields. The error names the message at fault.
func ParseMessages(data []byte) ([]Message, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) == nil {
			return nil, fmt.Errorf("messages must be a JSON array of {\"role\", \"content\"} objects, not an object")
		}
		return nil, fmt.Errorf("messages must be a JSON array of {\"role\", \"content\"} objects: %v", err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("messages is empty: a conversation needs at least one message")
	}
	msgs := make([]Message, len(raw))
	for i, r := range raw {
		m, err := parseMessage(r)
		if err != nil {
			return nil, fmt.Errorf("messages[%d]: %v", i, err)
		}
		msgs[i] = m
	}
	return msgs, nil
}

func parseMessage(data json.RawMessage) (Message, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return m, fmt.Errorf("must be an object with \"role\" and \"content\"")
	}
	var hasRole, hasContent bool
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return m, err
		}
		key := kt.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return m, err
		}
		switch key {
		case "role":
			if err := json.Unmarshal(val, &m.Role); err != nil {
				return m, fmt.Errorf("role must be a string")
			}
			hasRole = true
		case "content":
			if err := m.parseContent(val); err != nil {
				return m, err
			}
			hasContent = true
		default:
			m.Fields = append(m.Fields, Field{Key: key, Value: val})
		}
	}
	if !hasRole {
		return m, fmt.Errorf("has no \"role\"")
	}
	if !hasContent {
		return m, fmt.Errorf("has no \"content\"")
	}
	return m, nil
}

func (m *Message) parseContent(val json.RawMessage) error {
	if bytes.HasPrefix(bytes.TrimSpace(val), []byte("[")) {
		var parts []json.RawMessage
		if err := json.Unmarshal(val, &parts); err != nil {
			return fmt.Errorf("content: %v", err)
		}
		m.Parts = make([]Part, 0, len(parts))
		for j, pr := range parts {
			var p struct {
				Type *string `json:"type"`
				Text *string `json:"text"`
			}
			if err := json.Unmarshal(pr, &p); err != nil || p.Type == nil {
				return fmt.Errorf("content[%d] must be an object with a \"type\"", j)
			}
			part := Part{Type: *p.Type, raw: pr}
			if part.Type == "text" {
				if p.Text == nil {
					return fmt.Errorf("content[%d] is a text part without \"text\"", j)
				}
				part.Text = *p.Text
			}
			m.Parts = append(m.Parts, part)
		}
		return nil
	}
	if err := json.Unmarshal(val, &m.Content); err != nil {
		return fmt.Errorf("content must be a string or an array of {\"type\": \"text\", \"text\": ...} parts")
	}
	return nil
}
