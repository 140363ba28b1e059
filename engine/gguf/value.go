package gguf

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ValueType is the type tag of a metadata value (gguf_type).
type ValueType uint32

const (
	Uint8Type   ValueType = 0
	Int8Type    ValueType = 1
	Uint16Type  ValueType = 2
	Int16Type   ValueType = 3
	Uint32Type  ValueType = 4
	Int32Type   ValueType = 5
	Float32Type ValueType = 6
	BoolType    ValueType = 7
	StringType  ValueType = 8
	ArrayType   ValueType = 9
	Uint64Type  ValueType = 10
	Int64Type   ValueType = 11
	Float64Type ValueType = 12
)

var valueTypeNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// size is the encoded size of a scalar of this type; 0 for string and array.
func (t ValueType) size() int {
	switch t {
	case Uint8Type, Int8Type, BoolType:
		return 1
	case Uint16Type, Int16Type:
		return 2
	case Uint32Type, Int32Type, Float32Type:
		return 4
	case Uint64Type, Int64Type, Float64Type:
		return 8
	}
	return 0
}

func (t ValueType) valid() bool { return t <= Float64Type }

func (t ValueType) isInteger() bool {
	switch t {
	case Uint8Type, Int8Type, Uint16Type, Int16Type, Uint32Type, Int32Type, Uint64Type, Int64Type:
		return true
	}
	return false
}

// Value is one metadata value. Scalars hold a Go value of the matching type
// (uint8, int8, ..., string, bool); arrays hold an *Array.
type Value struct {
	Type ValueType
	v    any
}

// Array is a metadata array. Its elements are kept in one typed slice
// (for example []string or []float32) so that vocabularies with hundreds of
// thousands of entries load without one allocation per element.
type Array struct {
	Elem ValueType
	data any // []uint8, []int8, ..., []string, []bool, []*Array
}

// Len is the number of elements.
func (a *Array) Len() int {
	switch d := a.data.(type) {
	case []uint8:
		return len(d)
	case []int8:
		return len(d)
	case []uint16:
		return len(d)
	case []int16:
		return len(d)
	case []uint32:
		return len(d)
	case []int32:
		return len(d)
	case []float32:
		return len(d)
	case []bool:
		return len(d)
	case []string:
		return len(d)
	case []*Array:
		return len(d)
	case []uint64:
		return len(d)
	case []int64:
		return len(d)
	case []float64:
		return len(d)
	}
	return 0
}

// Data returns the typed slice behind the array ([]string, []float32, ...).
func (a *Array) Data() any { return a.data }

// Index returns element i as a Value.
func (a *Array) Index(i int) Value {
	switch d := a.data.(type) {
	case []uint8:
		return Value{a.Elem, d[i]}
	case []int8:
		return Value{a.Elem, d[i]}
	case []uint16:
		return Value{a.Elem, d[i]}
	case []int16:
		return Value{a.Elem, d[i]}
	case []uint32:
		return Value{a.Elem, d[i]}
	case []int32:
		return Value{a.Elem, d[i]}
	case []float32:
		return Value{a.Elem, d[i]}
	case []bool:
		return Value{a.Elem, d[i]}
	case []string:
		return Value{a.Elem, d[i]}
	case []*Array:
		return Value{a.Elem, d[i]}
	case []uint64:
		return Value{a.Elem, d[i]}
	case []int64:
		return Value{a.Elem, d[i]}
	case []float64:
		return Value{a.Elem, d[i]}
	}
	panic("gguf: bad array")
}

// Constructors for values, used by the writer and by tests.

func Uint8(v uint8) Value     { return Value{Uint8Type, v} }
func Int8(v int8) Value       { return Value{Int8Type, v} }
func Uint16(v uint16) Value   { return Value{Uint16Type, v} }
func Int16(v int16) Value     { return Value{Int16Type, v} }
func Uint32(v uint32) Value   { return Value{Uint32Type, v} }
func Int32(v int32) Value     { return Value{Int32Type, v} }
func Float32(v float32) Value { return Value{Float32Type, v} }
func Bool(v bool) Value       { return Value{BoolType, v} }
func String(v string) Value   { return Value{StringType, v} }
func Uint64(v uint64) Value   { return Value{Uint64Type, v} }
func Int64(v int64) Value     { return Value{Int64Type, v} }
func Float64(v float64) Value { return Value{Float64Type, v} }

// ArrayValue wraps a typed slice as an array value. Accepted slices:
// []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32, []bool,
// []string, []uint64, []int64, []float64, and []*Array for nested arrays.
func ArrayValue(data any) Value {
	var elem ValueType
	switch data.(type) {
	case []uint8:
		elem = Uint8Type
	case []int8:
		elem = Int8Type
	case []uint16:
		elem = Uint16Type
	case []int16:
		elem = Int16Type
	case []uint32:
		elem = Uint32Type
	case []int32:
		elem = Int32Type
	case []float32:
		elem = Float32Type
	case []bool:
		elem = BoolType
	case []string:
		elem = StringType
	case []*Array:
		elem = ArrayType
	case []uint64:
		elem = Uint64Type
	case []int64:
		elem = Int64Type
	case []float64:
		elem = Float64Type
	default:
		panic(fmt.Sprintf("gguf: ArrayValue of %T", data))
	}
	return Value{ArrayType, &Array{Elem: elem, data: data}}
}

// Any returns the Go value: a scalar, or *Array.
func (v Value) Any() any { return v.v }

// Array returns the array, or nil if v is not an array.
func (v Value) Array() *Array { a, _ := v.v.(*Array); return a }

// Int returns an integer value of any width as int64.
// ok is false for non-integers and for uint64 values above MaxInt64.
func (v Value) Int() (int64, bool) {
	switch x := v.v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// Float returns a float32 or float64 value as float64.
func (v Value) Float() (float64, bool) {
	switch x := v.v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// String formats the value for people; arrays longer than maxItems are
// summarised as "[N items]".
func (v Value) String() string { return v.Format(8) }

// Format renders v, showing at most maxItems array elements (all if < 0).
func (v Value) Format(maxItems int) string {
	switch x := v.v.(type) {
	case string:
		return strconv.Quote(x)
	case *Array:
		n := x.Len()
		if maxItems >= 0 && n > maxItems {
			return fmt.Sprintf("[%d items]", n)
		}
		var b strings.Builder
		b.WriteByte('[')
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(x.Index(i).Format(maxItems))
		}
		b.WriteByte(']')
		return b.String()
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// JSON returns v as a value encoding/json renders faithfully: scalars,
// strings, and slices for arrays (nested arrays as nested slices).
func (v Value) JSON() any {
	if a, ok := v.v.(*Array); ok {
		if nested, ok := a.data.([]*Array); ok {
			out := make([]any, len(nested))
			for i, n := range nested {
				out[i] = Value{ArrayType, n}.JSON()
			}
			return out
		}
		if f32, ok := a.data.([]float32); ok {
			return jsonFloats32(f32)
		}
		if f64, ok := a.data.([]float64); ok {
			return jsonFloats64(f64)
		}
		if u8, ok := a.data.([]uint8); ok {
			// encoding/json would write []uint8 as base64.
			out := make([]int, len(u8))
			for i, b := range u8 {
				out[i] = int(b)
			}
			return out
		}
		return a.data
	}
	switch x := v.v.(type) {
	case float32:
		return jsonFloat(float64(x))
	case float64:
		return jsonFloat(x)
	}
	return v.v
}

// jsonFloat keeps NaN and infinities, which JSON cannot encode, as strings.
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return f
}

func jsonFloats32(fs []float32) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = jsonFloat(float64(f))
	}
	return out
}

func jsonFloats64(fs []float64) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = jsonFloat(f)
	}
	return out
}

// ErrKeyNotFound is wrapped by accessor errors for a missing key.
var ErrKeyNotFound = errors.New("key not found")

// KeyError reports a metadata key that is missing or has the wrong type.
type KeyError struct {
	Key      string
	Expected string
	Found    string // empty when the key is missing
}

func (e *KeyError) Error() string {
	if e.Found == "" {
		return fmt.Sprintf("gguf: metadata key %q not found (expected %s)", e.Key, e.Expected)
	}
	return fmt.Sprintf("gguf: metadata key %q: expected %s, found %s", e.Key, e.Expected, e.Found)
}

func (e *KeyError) Unwrap() error {
	if e.Found == "" {
		return ErrKeyNotFound
	}
	return nil
}

func describe(v Value) string {
	if a, ok := v.v.(*Array); ok {
		return "array of " + a.Elem.String()
	}
	return v.Type.String()
}
