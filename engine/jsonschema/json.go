package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// value is a parsed JSON value that keeps the order of object members, as
// the converter's output depends on it (properties are written in order).
type value struct {
	kind    kind
	str     string // string
	num     string // number, as written
	isInt   bool   // number written without '.' or exponent (an integer to nlohmann's parser)
	boolean bool   // true or false
	arr     []*value
	keys    []string
	vals    []*value
}

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

// parse reads one JSON document. A member given twice keeps its first
// place and its last value, as llama.cpp's JSON library does.
func parse(data []byte) (*value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, fmt.Errorf("json_schema is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json_schema is not valid JSON: text after the document")
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (*value, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case nil:
		return &value{kind: kNull}, nil
	case bool:
		return &value{kind: kBool, boolean: t}, nil
	case json.Number:
		s := string(t)
		return &value{kind: kNumber, num: s, isInt: !strings.ContainsAny(s, ".eE")}, nil
	case string:
		return &value{kind: kString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &value{kind: kArray}
			for dec.More() {
				e, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := dec.Token()
			return v, err
		case '{':
			v := &value{kind: kObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				e, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				if i := v.index(k); i >= 0 {
					v.vals[i] = e
				} else {
					v.keys = append(v.keys, k)
					v.vals = append(v.vals, e)
				}
			}
			_, err := dec.Token()
			return v, err
		}
	}
	return nil, fmt.Errorf("unexpected %v", t)
}

func (v *value) index(k string) int {
	for i, key := range v.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// get returns member k of an object, or nil.
func (v *value) get(k string) *value {
	if v == nil || v.kind != kObject {
		return nil
	}
	if i := v.index(k); i >= 0 {
		return v.vals[i]
	}
	return nil
}

func (v *value) has(k string) bool { return v.get(k) != nil }

// with returns a copy of object v with member k set to e.
func (v *value) with(k string, e *value) *value {
	c := &value{kind: kObject, keys: append([]string(nil), v.keys...), vals: append([]*value(nil), v.vals...)}
	if i := c.index(k); i >= 0 {
		c.vals[i] = e
	} else {
		c.keys = append(c.keys, k)
		c.vals = append(c.vals, e)
	}
	return c
}

func (v *value) isString(s string) bool { return v != nil && v.kind == kString && v.str == s }

// int64 reads an integer (a number with a fraction is truncated, as
// nlohmann's get<int64_t> does).
func (v *value) int64() (int64, bool) {
	if v == nil || v.kind != kNumber {
		return 0, false
	}
	if n, err := strconv.ParseInt(v.num, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(v.num, 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 9.2e18 {
		return 0, false
	}
	return int64(f), true
}

// dump writes v compactly as nlohmann::json's dump() does: members in
// order, strings with its escapes, numbers in its format.
func (v *value) dump(b *strings.Builder) {
	switch v.kind {
	case kNull:
		b.WriteString("null")
	case kBool:
		if v.boolean {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case kNumber:
		b.WriteString(dumpNumber(v))
	case kString:
		dumpString(b, v.str)
	case kArray:
		b.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			e.dump(b)
		}
		b.WriteByte(']')
	case kObject:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			dumpString(b, k)
			b.WriteByte(':')
			v.vals[i].dump(b)
		}
		b.WriteByte('}')
	}
}

func (v *value) String() string {
	var b strings.Builder
	v.dump(&b)
	return b.String()
}

func dumpString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			fmt.Fprintf(b, `\u%04x`, c)
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		i++
	}
	b.WriteByte('"')
}

// dumpNumber formats a number as nlohmann::json does: integers as written
// (normalised), floats with the shortest digits that read back the same,
// in plain notation for exponents -4 to 15 (with ".0" when integral) and
// exponent notation otherwise.
func dumpNumber(v *value) string {
	if v.isInt {
		if n, err := strconv.ParseInt(v.num, 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
		if n, err := strconv.ParseUint(v.num, 10, 64); err == nil {
			return strconv.FormatUint(n, 10)
		}
	}
	f, err := strconv.ParseFloat(v.num, 64)
	if err != nil {
		return v.num
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest digits and decimal exponent: f = 0.d1d2...dk * 10^n.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±x
	mant, expPart, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expPart)
	k := len(digits)
	n := exp + 1
	var s string
	switch {
	case k <= n && n <= 15:
		s = digits + strings.Repeat("0", n-k) + ".0"
	case 0 < n && n <= 15:
		s = digits[:n] + "." + digits[n:]
	case -4 < n && n <= 0:
		s = "0." + strings.Repeat("0", -n) + digits
	default:
		s = digits[:1]
		if k > 1 {
			s += "." + digits[1:]
		}
		x := n - 1
		es := "+"
		if x < 0 {
			es, x = "-", -x
		}
		xs := strconv.Itoa(x)
		if len(xs) < 2 {
			xs = "0" + xs
		}
		s += "e" + es + xs
	}
	return sign + s
}
