package main

import (
	"io"
	"strconv"

	"github.com/llmsql/llmsql/engine/gguf"
	"github.com/llmsql/llmsql/engine/tokenizer"
)

func init() {
	register(&command{
		name:    "tokenize",
		summary: "print the token ids of a text as a JSON array",
		usage:   "-m MODEL [--no-bos] [--parse-special] [--] TEXT",
		run:     runTokenize,
	})
}

// runTokenize prints llama_tokenize's ids for TEXT. BOS (and EOS, for the
// few vocabularies that ask for it) is added as the vocabulary says unless
// --no-bos; special-token text like "<s>" is one token only with
// --parse-special.
func runTokenize(args []string, stdout, stderr io.Writer) error {
	c := commands["tokenize"]
	fs := newFlagSet(c, stderr)
	model := fs.String("m", "", "GGUF `MODEL` file (a vocab-only file will do)")
	noBOS := fs.Bool("no-bos", false, "do not add the BOS/EOS tokens the vocabulary asks for")
	parseSpecial := fs.Bool("parse-special", false, "turn special-token text such as <|im_start|> into its token")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *model == "" {
		return usagef("-m MODEL is required")
	}
	if len(pos) != 1 {
		return usagef("want one TEXT argument, got %d (quote the text; use -- before text starting with -)", len(pos))
	}
	f, err := gguf.Open(*model)
	if err != nil {
		return err
	}
	defer f.Close()
	tok, err := tokenizer.Load(f)
	if err != nil {
		return err
	}
	ids := tok.Encode(pos[0], !*noBOS, *parseSpecial)
	buf := make([]byte, 0, 8*len(ids)+3)
	buf = append(buf, '[')
	for i, id := range ids {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, int64(id), 10)
	}
	buf = append(buf, ']', '\n')
	_, err = stdout.Write(buf)
	return err
}
