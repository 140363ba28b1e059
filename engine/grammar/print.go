package grammar

import (
	"fmt"
	"strings"
)

// String prints the rules one per line in llama.cpp's llama_grammar_parser
// print format (generated rules included), which makes parser output easy
// to compare with llama.cpp's.
func (g *Grammar) String() string {
	var b strings.Builder
	for id, rule := range g.Rules {
		fmt.Fprintf(&b, "%s ::= ", g.Names[id])
		for i := 0; i < len(rule)-1; i++ {
			e := rule[i]
			switch e.Type {
			case Alt:
				b.WriteString("| ")
			case RuleRef:
				fmt.Fprintf(&b, "%s ", g.Names[e.Value])
			case Char:
				b.WriteString("[")
				printChar(&b, e.Value)
			case CharNot:
				b.WriteString("[^")
				printChar(&b, e.Value)
			case CharRngUpper:
				b.WriteString("-")
				printChar(&b, e.Value)
			case CharAlt:
				printChar(&b, e.Value)
			case CharAny:
				b.WriteString(".")
			case Token:
				fmt.Fprintf(&b, "<[%d]> ", e.Value)
			case TokenNot:
				fmt.Fprintf(&b, "!<[%d]> ", e.Value)
			}
			if isCharElem(e.Type) {
				switch rule[i+1].Type {
				case CharAlt, CharRngUpper, CharAny:
				default:
					b.WriteString("] ")
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func printChar(b *strings.Builder, c uint32) {
	if 0x20 <= c && c <= 0x7f {
		b.WriteByte(byte(c))
	} else {
		fmt.Fprintf(b, "<U+%04X>", c)
	}
}

func isCharElem(t ElemType) bool {
	switch t {
	case Char, CharNot, CharAlt, CharRngUpper, CharAny:
		return true
	}
	return false
}
