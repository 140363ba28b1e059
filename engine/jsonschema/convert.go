// Package jsonschema turns a JSON Schema into a GBNF grammar that accepts
// exactly the JSON documents the schema describes, with the coverage and
// the output of llama.cpp's json-schema-to-grammar: for a schema llama.cpp
// converts, the grammar text is the same, rule for rule.
//
// Where llama.cpp quietly ignores a keyword it cannot enforce (uniqueItems,
// minimum on a number, an unknown format, a pattern it cannot translate),
// this package refuses the schema with an error naming the keyword and
// where it is: a constraint that is not enforced would let through output
// the caller believes was checked. Annotations (title, description,
// default, examples, $schema, $id, $comment, ...) are ignored, as they
// constrain nothing.
package jsonschema

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Error is a schema this package cannot convert, with where in the schema
// the problem is (a JSON pointer; "" for the root).
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	p := e.Path
	if p == "" {
		p = "the root"
	}
	return fmt.Sprintf("json_schema: %s (at %s)", e.Msg, p)
}

// ToGrammar converts a JSON Schema (JSON text) to a GBNF grammar whose root
// rule is "root".
func ToGrammar(schema []byte) (string, error) {
	v, err := parse(schema)
	if err != nil {
		return "", err
	}
	c := &converter{rules: map[string]string{"space": spaceRule}, refs: map[string]*value{}, resolving: map[string]bool{}}
	c.resolveRefs(v, v)
	if len(c.errs) == 0 {
		c.visit(v, "", "")
	}
	if len(c.errs) > 0 {
		return "", errors.Join(c.errs...)
	}
	names := make([]string, 0, len(c.rules))
	for k := range c.rules {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s ::= %s\n", k, c.rules[k])
	}
	return b.String(), nil
}

const spaceRule = `| " " | "\n"{1,2} [ \t]{0,20}`

type builtin struct {
	content string
	deps    []string
}

var primitives = map[string]builtin{
	"boolean":       {`("true" | "false")`, nil},
	"decimal-part":  {`[0-9]{1,16}`, nil},
	"integral-part": {`[0] | [1-9] [0-9]{0,15}`, nil},
	"number":        {`("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)?`, []string{"integral-part", "decimal-part"}},
	"integer":       {`("-"? integral-part)`, []string{"integral-part"}},
	"value":         {`object | array | string | number | boolean | null`, []string{"object", "array", "string", "number", "boolean", "null"}},
	"object":        {`"{" space ( string ":" space value ("," space string ":" space value)* )? space "}"`, []string{"string", "value"}},
	"array":         {`"[" space ( value ("," space value)* )? space "]"`, []string{"value"}},
	"uuid":          {`"\"" [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12} "\""`, nil},
	"char":          {`[^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4})`, nil},
	"string":        {`"\"" char* "\""`, []string{"char"}},
	"null":          {`"null"`, nil},
}

var stringFormats = map[string]builtin{
	"date":             {`[0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] )`, nil},
	"time":             {`([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ( "Z" | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )`, nil},
	"date-time":        {`date "T" time`, []string{"date", "time"}},
	"date-string":      {`"\"" date "\""`, []string{"date"}},
	"time-string":      {`"\"" time "\""`, []string{"time"}},
	"date-time-string": {`"\"" date-time "\""`, []string{"date-time"}},
}

func reserved(name string) bool {
	if name == "root" {
		return true
	}
	if _, ok := primitives[name]; ok {
		return true
	}
	_, ok := stringFormats[name]
	return ok
}

var invalidRuleChars = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// annotations constrain nothing and are ignored wherever they appear.
var annotations = map[string]bool{
	"title": true, "description": true, "default": true, "examples": true, "example": true,
	"$schema": true, "$id": true, "$comment": true, "$anchor": true, "deprecated": true,
	"readOnly": true, "writeOnly": true, "$defs": true, "definitions": true,
	"contentMediaType": true, "contentEncoding": true,
}

type converter struct {
	rules     map[string]string
	refs      map[string]*value
	resolving map[string]bool
	errs      []error
}

func (c *converter) fail(path, format string, args ...any) {
	e := &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
	for _, old := range c.errs {
		if old.Error() == e.Error() {
			return
		}
	}
	c.errs = append(c.errs, e)
}

// addRule stores a rule under name (made a valid rule name), or under name
// with a number appended when name holds a different rule.
func (c *converter) addRule(name, rule string) string {
	esc := invalidRuleChars.ReplaceAllString(name, "-")
	if r, ok := c.rules[esc]; !ok || r == rule {
		c.rules[esc] = rule
		return esc
	}
	i := 0
	for {
		r, ok := c.rules[esc+strconv.Itoa(i)]
		if !ok || r == rule {
			break
		}
		i++
	}
	key := esc + strconv.Itoa(i)
	c.rules[key] = rule
	return key
}

func (c *converter) addPrimitive(name string, b builtin) string {
	n := c.addRule(name, b.content)
	for _, dep := range b.deps {
		d, ok := primitives[dep]
		if !ok {
			d = stringFormats[dep]
		}
		if _, exists := c.rules[dep]; !exists {
			c.addPrimitive(dep, d)
		}
	}
	return n
}

// formatLiteral quotes s as a GBNF string literal.
func formatLiteral(s string) string {
	r := strings.NewReplacer("\r", `\r`, "\n", `\n`, `"`, `\"`, `\`, `\\`)
	return `"` + r.Replace(s) + `"`
}

func constantRule(v *value) string { return formatLiteral(v.String()) }

// resolveRefs records every local $ref's target ("#/a/b"); other refs are
// errors (nothing is fetched).
func (c *converter) resolveRefs(root, n *value) {
	switch n.kind {
	case kArray:
		for _, e := range n.arr {
			c.resolveRefs(root, e)
		}
	case kObject:
		if r := n.get("$ref"); r != nil {
			if r.kind != kString {
				c.fail("", "$ref must be a string")
				return
			}
			ref := r.str
			if _, ok := c.refs[ref]; ok {
				return
			}
			if !strings.HasPrefix(ref, "#/") {
				c.fail("", "$ref %q is not supported: only references inside the schema (#/...) are", ref)
				return
			}
			target := root
			for _, sel := range strings.Split(ref[2:], "/") {
				switch {
				case target.kind == kObject && target.has(sel):
					target = target.get(sel)
				case target.kind == kArray:
					i, err := strconv.Atoi(sel)
					if err != nil || i < 0 || i >= len(target.arr) {
						c.fail("", "$ref %q: %s is not in %s", ref, sel, target)
						return
					}
					target = target.arr[i]
				default:
					c.fail("", "$ref %q: %s is not in the schema", ref, sel)
					return
				}
			}
			c.refs[ref] = target
			return
		}
		for _, e := range n.vals {
			c.resolveRefs(root, e)
		}
	}
}

func (c *converter) resolveRef(ref, path string) string {
	frag := ref
	if i := strings.IndexByte(ref, '#'); i >= 0 {
		frag = ref[i+1:]
	}
	name := "ref" + invalidRuleChars.ReplaceAllString(frag, "-")
	if _, ok := c.rules[name]; !ok && !c.resolving[ref] {
		c.resolving[ref] = true
		name = c.visit(c.refs[ref], name, path)
		delete(c.resolving, ref)
	}
	return name
}

func (c *converter) unionRule(name, path string, alts []*value, key string) string {
	var rules []string
	for i, a := range alts {
		n := name + "-" + strconv.Itoa(i)
		if name == "" {
			n = "alternative-" + strconv.Itoa(i)
		}
		rules = append(rules, c.visit(a, n, fmt.Sprintf("%s/%s/%d", path, key, i)))
	}
	return strings.Join(rules, " | ")
}

// Keywords by the type of value they constrain. A keyword about another
// type than the branch's does not apply there (minLength when the value is
// null); one about the branch's own type, or about any value, must be
// enforced or the schema is refused.
var keywordTypes = map[string]string{
	"minLength": "string", "maxLength": "string", "pattern": "string", "format": "string",
	"contentSchema": "string",
	"minimum":       "number", "maximum": "number", "exclusiveMinimum": "number", "exclusiveMaximum": "number", "multipleOf": "number",
	"items": "array", "prefixItems": "array", "minItems": "array", "maxItems": "array", "uniqueItems": "array",
	"contains": "array", "minContains": "array", "maxContains": "array", "additionalItems": "array", "unevaluatedItems": "array",
	"properties": "object", "required": "object", "additionalProperties": "object", "patternProperties": "object",
	"minProperties": "object", "maxProperties": "object", "propertyNames": "object", "dependentRequired": "object",
	"dependentSchemas": "object", "dependencies": "object", "unevaluatedProperties": "object",
}

// check fails for each keyword of schema that is not an annotation, does
// not apply to values of type typ ("" = any value) and is not one the
// branch taken enforces (used).
func (c *converter) check(schema *value, path, typ, branch string, used ...string) {
	var bad []string
	for _, k := range schema.keys {
		if annotations[k] || slices.Contains(used, k) {
			continue
		}
		if kt, ok := keywordTypes[k]; ok && typ != "" && kt != typ && !(kt == "number" && typ == "integer") {
			continue
		}
		if k == "format" {
			if f := schema.get("format"); f.kind == kString {
				c.fail(path, "unsupported format %q %s: supported are date, time, date-time and uuid", f.str, branch)
				continue
			}
		}
		bad = append(bad, strconv.Quote(k))
	}
	if len(bad) == 0 {
		return
	}
	word := "keyword"
	if len(bad) > 1 {
		word = "keywords"
	}
	c.fail(path, "unsupported %s %s %s: not enforced", word, strings.Join(bad, ", "), branch)
}

func (c *converter) visit(schema *value, name, path string) string {
	if schema == nil || schema.kind != kObject {
		c.fail(path, "a schema must be a JSON object, not %s", schemaText(schema))
		return ""
	}
	typ := schema.get("type")
	format := ""
	if f := schema.get("format"); f != nil {
		if f.kind != kString {
			c.fail(path, "format must be a string")
			return ""
		}
		format = f.str
	}
	ruleName := name
	switch {
	case reserved(name):
		ruleName = name + "-"
	case name == "":
		ruleName = "root"
	}
	untyped := typ == nil
	isType := func(t string) bool { return typ.isString(t) }

	switch {
	case schema.has("$ref"):
		c.check(schema, path, "", "beside $ref", "$ref", c.redundantType(schema, []*value{{kind: kObject, keys: []string{"$ref"}, vals: []*value{schema.get("$ref")}}}))
		return c.addRule(ruleName, c.resolveRef(schema.get("$ref").str, path+"/$ref"))

	case schema.has("oneOf") || schema.has("anyOf"):
		key := "anyOf"
		if schema.has("oneOf") {
			key = "oneOf"
		}
		alts := schema.get(key)
		if alts.kind != kArray {
			c.fail(path, "%s must be an array", key)
			return ""
		}
		c.check(schema, path, "", "beside "+key, key, c.redundantType(schema, alts.arr))
		return c.addRule(ruleName, c.unionRule(name, path, alts.arr, key))

	case typ != nil && typ.kind == kArray:
		var alts []*value
		for _, t := range typ.arr {
			alts = append(alts, schema.with("type", t))
		}
		return c.addRule(ruleName, c.unionRule(name, path, alts, "type"))

	case schema.has("const"):
		c.check(schema, path, "", "beside const", "const", "type")
		return c.addRule(ruleName, constantRule(schema.get("const")))

	case schema.has("enum"):
		e := schema.get("enum")
		if e.kind != kArray {
			c.fail(path, "enum must be an array")
			return ""
		}
		c.check(schema, path, "", "beside enum", "enum", "type")
		var vals []string
		for _, v := range e.arr {
			vals = append(vals, constantRule(v))
		}
		return c.addRule(ruleName, "("+strings.Join(vals, " | ")+")")

	case (untyped || isType("object")) && (schema.has("properties") || (schema.has("additionalProperties") && !isTrue(schema.get("additionalProperties")))):
		c.check(schema, path, "object", "on an object", "type", "properties", "required", "additionalProperties")
		required := map[string]bool{}
		if r := schema.get("required"); r != nil && r.kind == kArray {
			for _, e := range r.arr {
				if e.kind == kString {
					required[e.str] = true
				}
			}
		}
		var props []prop
		if p := schema.get("properties"); p != nil {
			if p.kind != kObject {
				c.fail(path, "properties must be an object")
				return ""
			}
			for i, k := range p.keys {
				props = append(props, prop{k, p.vals[i]})
			}
		}
		return c.addRule(ruleName, c.objectRule(props, required, name, path, schema.get("additionalProperties")))

	case (untyped || isType("object") || isType("string")) && schema.has("allOf"):
		c.check(schema, path, "", "beside allOf", "type", "allOf")
		return c.addRule(ruleName, c.allOfRule(schema, name, path))

	case (untyped || isType("array")) && (schema.has("items") || schema.has("prefixItems")):
		key := "items"
		if !schema.has("items") {
			key = "prefixItems"
		}
		items := schema.get(key)
		if items.kind == kArray {
			c.check(schema, path, "array", "on a tuple", "type", key)
			rule := `"[" space `
			for i, it := range items.arr {
				if i > 0 {
					rule += ` "," space `
				}
				n := "tuple-" + strconv.Itoa(i)
				if name != "" {
					n = name + "-" + n
				}
				rule += c.visit(it, n, fmt.Sprintf("%s/%s/%d", path, key, i))
			}
			return c.addRule(ruleName, rule+` space "]"`)
		}
		c.check(schema, path, "array", "on an array", "type", key, "minItems", "maxItems")
		itemName := "item"
		if name != "" {
			itemName = name + "-item"
		}
		item := c.visit(items, itemName, path+"/"+key)
		minItems, maxItems := 0, math.MaxInt32
		if v := schema.get("minItems"); v != nil {
			n, ok := v.int64()
			if !ok || n < 0 {
				c.fail(path+"/minItems", "minItems must be a non-negative integer")
				return ""
			}
			minItems = int(min(n, math.MaxInt32))
		}
		if v := schema.get("maxItems"); v != nil {
			n, ok := v.int64()
			if !ok || n < 0 {
				c.fail(path+"/maxItems", "maxItems must be a non-negative integer")
				return ""
			}
			if v.isInt {
				maxItems = int(min(n, math.MaxInt32))
			}
		}
		if minItems > maxItems {
			c.fail(path, "minItems %d is above maxItems %d", minItems, maxItems)
			return ""
		}
		return c.addRule(ruleName, `"[" space `+repetition(item, minItems, maxItems, `"," space`)+` space "]"`)

	case (untyped || isType("string")) && schema.has("pattern"):
		c.check(schema, path, "string", "beside pattern", "type", "pattern")
		p := schema.get("pattern")
		if p.kind != kString {
			c.fail(path, "pattern must be a string")
			return ""
		}
		return c.visitPattern(p.str, ruleName, path)

	case (untyped || isType("string")) && isUUIDFormat(format):
		c.check(schema, path, "string", "on a uuid string", "type", "format")
		n := format
		if ruleName == "root" {
			n = "root"
		}
		return c.addPrimitive(n, primitives["uuid"])

	case (untyped || isType("string")) && hasStringFormat(format):
		c.check(schema, path, "string", "on a "+format+" string", "type", "format")
		prim := format + "-string"
		return c.addRule(ruleName, c.addPrimitive(prim, stringFormats[prim]))

	case isType("string") && (schema.has("minLength") || schema.has("maxLength")):
		c.check(schema, path, "string", "on a string", "type", "minLength", "maxLength")
		char := c.addPrimitive("char", primitives["char"])
		minLen, maxLen := 0, math.MaxInt32
		if v := schema.get("minLength"); v != nil {
			n, ok := v.int64()
			if !ok || n < 0 {
				c.fail(path+"/minLength", "minLength must be a non-negative integer")
				return ""
			}
			minLen = int(min(n, math.MaxInt32))
		}
		if v := schema.get("maxLength"); v != nil {
			n, ok := v.int64()
			if !ok || n < 0 {
				c.fail(path+"/maxLength", "maxLength must be a non-negative integer")
				return ""
			}
			maxLen = int(min(n, math.MaxInt32))
		}
		if minLen > maxLen {
			c.fail(path, "minLength %d is above maxLength %d", minLen, maxLen)
			return ""
		}
		if minLen > 2000 || (maxLen != math.MaxInt32 && maxLen > 2000) {
			c.fail(path, "string lengths above 2000 are not supported (a grammar repetition is at most 2000)")
			return ""
		}
		return c.addRule(ruleName, `"\"" `+repetition(char, minLen, maxLen, "")+` "\""`)

	case isType("integer") && (schema.has("minimum") || schema.has("exclusiveMinimum") || schema.has("maximum") || schema.has("exclusiveMaximum")):
		c.check(schema, path, "integer", "on an integer", "type", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		bound := func(k string, ceil bool) (int64, bool) {
			v := schema.get(k)
			f, err := strconv.ParseFloat(v.num, 64)
			if v.kind != kNumber || err != nil || math.Abs(f) >= 1e17 {
				c.fail(path+"/"+k, "%s must be a number of at most 16 digits", k)
				return 0, false
			}
			if n, err := strconv.ParseInt(v.num, 10, 64); err == nil {
				return n, true
			}
			if ceil {
				return int64(math.Ceil(f)), true
			}
			return int64(math.Floor(f)), true
		}
		var ok bool
		switch {
		case schema.has("minimum"):
			if lo, ok = bound("minimum", true); !ok {
				return ""
			}
		case schema.has("exclusiveMinimum"):
			if lo, ok = bound("exclusiveMinimum", false); !ok {
				return ""
			}
			lo++
		}
		switch {
		case schema.has("maximum"):
			if hi, ok = bound("maximum", false); !ok {
				return ""
			}
		case schema.has("exclusiveMaximum"):
			if hi, ok = bound("exclusiveMaximum", true); !ok {
				return ""
			}
			hi--
		}
		if schema.has("minimum") && schema.has("exclusiveMinimum") || schema.has("maximum") && schema.has("exclusiveMaximum") {
			c.fail(path, "give minimum or exclusiveMinimum, maximum or exclusiveMaximum, not both")
			return ""
		}
		if lo > hi {
			c.fail(path, "no integer lies between the minimum and the maximum")
			return ""
		}
		var b strings.Builder
		b.WriteString("(")
		minMaxInt(&b, lo, hi, 16, true)
		b.WriteString(")")
		return c.addRule(ruleName, b.String())

	case len(schema.keys) == 0 || isType("object"):
		c.check(schema, path, "object", "on an object", "type", "additionalProperties")
		return c.addRule(ruleName, c.addPrimitive("object", primitives["object"]))

	case untyped:
		// No type and nothing that constrains: any JSON value (as llama.cpp
		// does for, say, {"description": "..."}).
		c.check(schema, path, "", "on a schema without a type")
		return c.addRule(ruleName, c.addPrimitive("value", primitives["value"]))
	}
	if typ.kind != kString {
		c.fail(path, "type must be a string or an array of strings, not %s", typ)
		return ""
	}
	b, ok := primitives[typ.str]
	if !ok || !slices.Contains([]string{"string", "number", "integer", "boolean", "null", "array", "object"}, typ.str) {
		c.fail(path, "unknown type %q", typ.str)
		return ""
	}
	branch := "on a " + typ.str
	switch typ.str {
	case "array":
		branch = "on an array without items"
	case "integer":
		branch = "on an integer"
	}
	c.check(schema, path, typ.str, branch, "type")
	n := typ.str
	if ruleName == "root" {
		n = "root"
	}
	return c.addPrimitive(n, b)
}

// redundantType returns "type" when schema's type only restates what each
// of alts already is (an object type beside alternatives that are all
// objects), so the union enforces it; "" otherwise.
func (c *converter) redundantType(schema *value, alts []*value) string {
	t := schema.get("type")
	if t == nil || t.kind != kString {
		return ""
	}
	for _, a := range alts {
		if c.typeOf(a, 0) != t.str {
			return ""
		}
	}
	return "type"
}

// typeOf is the one JSON type every value schema s accepts has, or "".
func (c *converter) typeOf(s *value, depth int) string {
	if s == nil || s.kind != kObject || depth > 32 {
		return ""
	}
	if r := s.get("$ref"); r != nil && r.kind == kString {
		return c.typeOf(c.refs[r.str], depth+1)
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		if alts := s.get(key); alts != nil && alts.kind == kArray {
			t := ""
			for i, a := range alts.arr {
				at := c.typeOf(a, depth+1)
				if at == "" || (i > 0 && at != t) {
					return ""
				}
				t = at
			}
			return t
		}
	}
	if t := s.get("type"); t != nil {
		if t.kind == kString {
			return t.str
		}
		return ""
	}
	t := ""
	for i, k := range s.keys {
		kt := keywordTypes[k]
		if annotations[k] {
			continue
		}
		if kt == "" || (t != "" && kt != t) {
			return ""
		}
		t = kt
		_ = i
	}
	if len(s.keys) == 0 {
		return "object" // {} converts to any object
	}
	return t
}

func isTrue(v *value) bool { return v.kind == kBool && v.boolean }

func schemaText(v *value) string {
	if v == nil {
		return "nothing"
	}
	return v.String()
}

var uuidFormat = regexp.MustCompile(`^uuid[1-5]?$`)

func isUUIDFormat(f string) bool { return uuidFormat.MatchString(f) }

func hasStringFormat(f string) bool {
	_, ok := stringFormats[f+"-string"]
	return ok && f != ""
}

type prop struct {
	name   string
	schema *value
}

// repetition writes item repeated min to max times (max = MaxInt32: no
// limit), items separated by sep when it is given.
func repetition(item string, minN, maxN int, sep string) string {
	hasMax := maxN != math.MaxInt32
	if maxN == 0 {
		return ""
	}
	if minN == 0 && maxN == 1 {
		return item + "?"
	}
	if sep == "" {
		if minN == 1 && !hasMax {
			return item + "+"
		}
		if minN == 0 && !hasMax {
			return item + "*"
		}
		s := item + "{" + strconv.Itoa(minN) + ","
		if hasMax {
			s += strconv.Itoa(maxN)
		}
		return s + "}"
	}
	restMax := maxN
	if hasMax {
		restMax = maxN - 1
	}
	result := item + " " + repetition("("+sep+" "+item+")", max(minN-1, 0), restMax, "")
	if minN == 0 {
		result = "(" + result + ")?"
	}
	return result
}

func (c *converter) objectRule(props []prop, required map[string]bool, name, path string, additional *value) string {
	var req, opt []string
	kv := map[string]string{}
	var names []string
	prefix := name
	if name != "" {
		prefix = name + "-"
	}
	for _, p := range props {
		rule := c.visit(p.schema, prefix+p.name, path+"/properties/"+p.name)
		var key strings.Builder
		dumpString(&key, p.name)
		kv[p.name] = c.addRule(prefix+p.name+"-kv", formatLiteral(key.String())+` space ":" space `+rule)
		if required[p.name] {
			req = append(req, p.name)
		} else {
			opt = append(opt, p.name)
		}
		names = append(names, p.name)
	}
	if additional != nil && (isTrue(additional) || additional.kind == kObject) {
		sub := prefix + "additional"
		var valueRule string
		if additional.kind == kObject {
			valueRule = c.visit(additional, sub+"-value", path+"/additionalProperties")
		} else {
			valueRule = c.addPrimitive("value", primitives["value"])
		}
		var keyRule string
		if len(names) == 0 {
			keyRule = c.addPrimitive("string", primitives["string"])
		} else {
			keyRule = c.addRule(sub+"-k", c.notStrings(names))
		}
		kv["*"] = c.addRule(sub+"-kv", keyRule+` ":" space `+valueRule)
		opt = append(opt, "*")
	} else if additional != nil && additional.kind != kBool {
		c.fail(path+"/additionalProperties", "additionalProperties must be a boolean or a schema")
	}
	if len(req) == 0 && len(opt) == 0 {
		return `"{" space "}"`
	}
	rule := `"{" space `
	for i, r := range req {
		if i > 0 {
			rule += ` "," space `
		}
		rule += kv[r]
	}
	if len(opt) > 0 {
		rule += " ("
		if len(req) > 0 {
			rule += ` "," space ( `
		}
		var rest func(ks []string, firstOptional bool) string
		rest = func(ks []string, firstOptional bool) string {
			if len(ks) == 0 {
				return ""
			}
			k := ks[0]
			kvName := kv[k]
			commaRef := `( "," space ` + kvName + ` )`
			var res string
			if firstOptional {
				if k == "*" {
					res = commaRef + "*"
				} else {
					res = commaRef + "?"
				}
			} else {
				res = kvName
				if k == "*" {
					res += " " + commaRef + "*"
				}
			}
			if len(ks) > 1 {
				res += " " + c.addRule(prefix+k+"-rest", rest(ks[1:], true))
			}
			return res
		}
		for i := range opt {
			if i > 0 {
				rule += " | "
			}
			rule += rest(opt[i:], false)
		}
		if len(req) > 0 {
			rule += " )"
		}
		rule += " )?"
	}
	return rule + ` space "}"`
}

// notStrings is a rule for a JSON string that is none of strs (the names
// an object's additional properties may not take): a trie of the names,
// each node allowing any character but the next ones of the names. It is
// llama.cpp's rule with two fixes: the character that leaves the names
// must also be one a JSON string may hold unescaped (llama.cpp's lets a
// raw newline or a lone backslash into the key), and names are split into
// characters, not bytes (llama.cpp's breaks on non-ASCII names).
func (c *converter) notStrings(strs []string) string {
	type node struct {
		children map[rune]*node
		end      bool
	}
	root := &node{children: map[rune]*node{}}
	for _, s := range strs {
		n := root
		for _, r := range s {
			ch, ok := n.children[r]
			if !ok {
				ch = &node{children: map[rune]*node{}}
				n.children[r] = ch
			}
			n = ch
		}
		n.end = true
	}
	char := c.addPrimitive("char", primitives["char"])
	var b strings.Builder
	b.WriteString(`["] ( `)
	var visit func(n *node)
	visit = func(n *node) {
		keys := make([]rune, 0, len(n.children))
		for k := range n.children {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var rejects strings.Builder
		for i, k := range keys {
			rejects.WriteString(classChar(k))
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString("[" + classChar(k) + "]")
			ch := n.children[k]
			if len(ch.children) > 0 {
				b.WriteString(" (")
				visit(ch)
				b.WriteString(")")
			} else if ch.end {
				b.WriteString(" " + char + "+")
			}
		}
		if len(keys) > 0 {
			b.WriteString(` | [^"\\\x7F\x00-\x1F` + rejects.String() + `] ` + char + "*")
		}
	}
	visit(root)
	b.WriteString(" )")
	if !root.end {
		b.WriteString("?")
	}
	b.WriteString(` ["]`)
	return b.String()
}

// classChar writes r for a GBNF character class, escaping what would
// change the class's meaning.
func classChar(r rune) string {
	switch r {
	case '\\':
		return `\\`
	case ']':
		return `\]`
	case '-':
		return `\-`
	case '^':
		return `\x5E`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	if r < 0x20 {
		return fmt.Sprintf(`\x%02X`, r)
	}
	return string(r)
}

// allOfRule merges the properties (and enums) of allOf's parts into one
// object, as llama.cpp does: the parts of an anyOf inside make optional
// properties.
func (c *converter) allOfRule(schema *value, name, path string) string {
	required := map[string]bool{}
	var props []prop
	enumCount := map[string]int{}
	var enumOrder []string
	var add func(comp *value, req bool, p string)
	add = func(comp *value, req bool, p string) {
		switch {
		case comp.kind != kObject:
			c.fail(p, "an allOf part must be a schema object")
		case comp.has("$ref"):
			add(c.refs[comp.get("$ref").str], req, p+"/$ref")
		case comp.has("properties"):
			c.check(comp, p, "object", "in an allOf part", "properties", "type")
			ps := comp.get("properties")
			for i, k := range ps.keys {
				props = append(props, prop{k, ps.vals[i]})
				if req {
					required[k] = true
				}
			}
		case comp.has("enum"):
			c.check(comp, p, "", "in an allOf part", "enum", "type")
			for _, v := range comp.get("enum").arr {
				r := constantRule(v)
				if _, ok := enumCount[r]; !ok {
					enumOrder = append(enumOrder, r)
				}
				enumCount[r]++
			}
		default:
			c.fail(p, "an allOf part must have properties, an enum or a $ref to one")
		}
	}
	all := schema.get("allOf")
	if all.kind != kArray {
		c.fail(path, "allOf must be an array")
		return ""
	}
	for i, t := range all.arr {
		p := fmt.Sprintf("%s/allOf/%d", path, i)
		if t.has("anyOf") {
			for j, tt := range t.get("anyOf").arr {
				add(tt, false, fmt.Sprintf("%s/anyOf/%d", p, j))
			}
		} else {
			add(t, true, p)
		}
	}
	if len(enumCount) > 0 {
		// std::map order: the rules sorted.
		sort.Strings(enumOrder)
		var inter []string
		for _, r := range enumOrder {
			if enumCount[r] == len(all.arr) {
				inter = append(inter, r)
			}
		}
		if len(inter) > 0 {
			return "(" + strings.Join(inter, " | ") + ")"
		}
	}
	return c.objectRule(props, required, name, path, nil)
}
