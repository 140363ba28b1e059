package jsonschema

import (
	"math"
	"strconv"
	"strings"
)

// minMaxInt writes a grammar for the decimal integers from lo to hi
// (math.MinInt64 / math.MaxInt64 meaning unbounded), digit by digit, as
// llama.cpp's build_min_max_int does: decimalsLeft bounds how many more
// digits an unbounded side may take.
func minMaxInt(out *strings.Builder, lo, hi int64, decimalsLeft int, topLevel bool) {
	hasMin, hasMax := lo != math.MinInt64, hi != math.MaxInt64
	digitRange := func(from, to byte) {
		out.WriteByte('[')
		if from == to {
			out.WriteByte(from)
		} else {
			out.WriteByte(from)
			out.WriteByte('-')
			out.WriteByte(to)
		}
		out.WriteByte(']')
	}
	moreDigits := func(minD, maxD int) {
		out.WriteString("[0-9]")
		if minD == maxD && minD == 1 {
			return
		}
		out.WriteString("{" + strconv.Itoa(minD))
		if maxD != minD {
			out.WriteString("," + strconv.Itoa(maxD))
		}
		out.WriteString("}")
	}
	var uniform func(from, to string)
	uniform = func(from, to string) {
		i := 0
		for i < len(from) && i < len(to) && from[i] == to[i] {
			i++
		}
		if i > 0 {
			out.WriteString(`"` + from[:i] + `"`)
		}
		if i < len(from) && i < len(to) {
			if i > 0 {
				out.WriteString(" ")
			}
			subLen := len(from) - i - 1
			if subLen > 0 {
				fromSub, toSub := from[i+1:], to[i+1:]
				zeros, nines := strings.Repeat("0", subLen), strings.Repeat("9", subLen)
				toReached := false
				out.WriteString("(")
				if fromSub == zeros {
					digitRange(from[i], to[i]-1)
					out.WriteString(" ")
					moreDigits(subLen, subLen)
				} else {
					out.WriteString("[" + from[i:i+1] + "] (")
					uniform(fromSub, nines)
					out.WriteString(")")
					if from[i] < to[i]-1 {
						out.WriteString(" | ")
						if toSub == nines {
							digitRange(from[i]+1, to[i])
							toReached = true
						} else {
							digitRange(from[i]+1, to[i]-1)
						}
						out.WriteString(" ")
						moreDigits(subLen, subLen)
					}
				}
				if !toReached {
					out.WriteString(" | ")
					digitRange(to[i], to[i])
					out.WriteString(" ")
					uniform(zeros, toSub)
				}
				out.WriteString(")")
			} else {
				out.WriteString("[" + from[i:i+1] + "-" + to[i:i+1] + "]")
			}
		}
	}

	if hasMin && hasMax {
		if lo < 0 && hi < 0 {
			out.WriteString(`"-" (`)
			minMaxInt(out, -hi, -lo, decimalsLeft, true)
			out.WriteString(")")
			return
		}
		if lo < 0 {
			out.WriteString(`"-" (`)
			minMaxInt(out, 0, -lo, decimalsLeft, true)
			out.WriteString(") | ")
			lo = 0
		}
		minS, maxS := strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10)
		for digits := len(minS); digits < len(maxS); digits++ {
			uniform(minS, strings.Repeat("9", digits))
			minS = "1" + strings.Repeat("0", digits)
			out.WriteString(" | ")
		}
		uniform(minS, maxS)
		return
	}

	less := max(decimalsLeft-1, 1)
	if hasMin {
		switch {
		case lo < 0:
			out.WriteString(`"-" (`)
			minMaxInt(out, math.MinInt64, -lo, decimalsLeft, false)
			out.WriteString(") | [0] | [1-9] ")
			moreDigits(0, decimalsLeft-1)
		case lo == 0:
			if topLevel {
				out.WriteString("[0] | [1-9] ")
				moreDigits(0, less)
			} else {
				moreDigits(1, decimalsLeft)
			}
		case lo <= 9:
			c := byte('0' + lo)
			start := byte('0')
			if topLevel {
				start = '1'
			}
			if c > start {
				digitRange(start, c-1)
				out.WriteString(" ")
				moreDigits(1, less)
				out.WriteString(" | ")
			}
			digitRange(c, '9')
			out.WriteString(" ")
			moreDigits(0, less)
		default:
			minS := strconv.FormatInt(lo, 10)
			n := len(minS)
			c := minS[0]
			if c > '1' {
				start := byte('0')
				if topLevel {
					start = '1'
				}
				digitRange(start, c-1)
				out.WriteString(" ")
				moreDigits(n, less)
				out.WriteString(" | ")
			}
			digitRange(c, c)
			out.WriteString(" (")
			restAtLeast(out, minS[1:], less)
			out.WriteString(")")
			if c < '9' {
				out.WriteString(" | ")
				digitRange(c+1, '9')
				out.WriteString(" ")
				moreDigits(n-1, less)
			}
		}
		return
	}
	if hasMax {
		if hi >= 0 {
			if topLevel {
				out.WriteString(`"-" [1-9] `)
				moreDigits(0, less)
				out.WriteString(" | ")
			}
			minMaxInt(out, 0, hi, decimalsLeft, true)
		} else {
			out.WriteString(`"-" (`)
			minMaxInt(out, -hi, math.MaxInt64, decimalsLeft, false)
			out.WriteString(")")
		}
	}
}

// restAtLeast writes a grammar for the digit strings that may follow the
// first digit of a lower bound whose other digits are r: r's length or
// longer, and not below r when as long. llama.cpp recurses on r's value,
// which is right unless r starts with 0 ("00" of 100 would let 10 through):
// this does the same where r does not, and keeps r's width where it does.
func restAtLeast(out *strings.Builder, r string, decimals int) {
	if r[0] != '0' {
		v, _ := strconv.ParseInt(r, 10, 64)
		minMaxInt(out, v, math.MaxInt64, decimals, false)
		return
	}
	more := func(minD, maxD int) {
		out.WriteString("[0-9]")
		if minD == maxD && minD == 1 {
			return
		}
		out.WriteString("{" + strconv.Itoa(minD))
		if maxD != minD {
			out.WriteString("," + strconv.Itoa(maxD))
		}
		out.WriteString("}")
	}
	if strings.Trim(r, "0") == "" {
		more(len(r), max(decimals, len(r)))
		return
	}
	out.WriteString("[0] (")
	restAtLeast(out, r[1:], max(decimals-1, 1))
	out.WriteString(") | [1-9] ")
	more(len(r)-1, max(decimals-1, len(r)-1))
}
