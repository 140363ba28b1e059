package tokenizer

// preTokenizer is what tokenizer.ggml.pre selects for a byte-level BPE
// vocabulary: the split steps and the flags llama.cpp's vocab loader sets
// for that name.
type preTokenizer struct {
	steps        []splitStep
	keepSpaces   bool // clean_spaces = false when detokenizing
	ignoreMerges bool // a word that is itself a token is not merged
	addBOS       bool
	noBOS        bool // the vocab's default BOS id does not apply
	addSep       bool

	// SentencePiece-style BPE (Gemma 4, Sarvam): spaces are written as ▁
	// before splitting, words are merged as raw UTF-8 rather than in the
	// byte alphabet, bytes without a token fall back to <0xXX> tokens, and
	// tokens are decoded by turning ▁ back into spaces.
	escapeSpaces bool
	rawBytes     bool // words stay UTF-8 (no GPT-2 byte alphabet)
	newlineWords bool // a word of only \n that is a token is not merged (Gemma 4)
	forceBOS     bool // add_bos is forced on (llama.cpp's Gemma 4 workaround)
	mergesOpt    bool // the vocabulary may come without merges (Kimi-K2)
	keepCase     bool // the whitespace tokenizer model does not lowercase
}

func gpt2PunctClass(backtick bool) func(byte) bool {
	return func(c byte) bool {
		if colIsP(c) {
			return true
		}
		switch c {
		case '$', '+', '<', '=', '>', '^', '~', '|':
			return true
		case '`':
			return backtick
		}
		return false
	}
}

var (
	stepsDefault = []splitStep{
		searchStep(classRunMatcher(false, gpt2PunctClass(false))),
		splitGPT2,
		searchStep(digitsMatcher(0)),
		searchStep(threeDigitsMatcher),
	}
	stepsGPT2      = []splitStep{splitGPT2}
	stepsLlama3    = []splitStep{splitLlama3}
	stepsStarcoder = []splitStep{searchStep(digitsMatcher(1)), splitGPT2}
	stepsFalcon    = []splitStep{
		searchStep(classRunMatcher(false, gpt2PunctClass(true))),
		splitGPT2,
		searchStep(threeDigitsMatcher),
	}
	stepsDeepseekLLM = []splitStep{
		searchStep(lineBreakMatcher),
		searchStep(wideRunMatcher(true, deepseekLetters.has)),
		searchStep(wideRunMatcher(true, deepseekPunct.has)),
		searchStep(trailingSpaceMatcher),
		searchStep(wideRunMatcher(false, deepseekCJK.has)),
		searchStep(digitsMatcher(0)),
	}
	stepsDeepseekCoder = []splitStep{
		searchStep(lineBreakMatcher),
		searchStep(classRunMatcher(true, colIsL)),
		searchStep(classRunMatcher(true, colIsP)),
		searchStep(wideRunMatcher(false, deepseekCJK.has)),
		searchStep(digitsMatcher(1)),
	}
	stepsDeepseek3 = []splitStep{
		searchStep(digitsMatcher(3)),
		searchStep(wideRunMatcher(false, deepseek3CJK.has)),
		searchStep(deepseek3Matcher),
	}
	stepsQwen2     = []splitStep{searchStep(qwen2Matcher(qwen2Opts{digits: 1}))}
	stepsQwen35    = []splitStep{searchStep(qwen2Matcher(qwen2Opts{digits: 1, marks: true}))}
	stepsSeedCoder = []splitStep{searchStep(qwen2Matcher(qwen2Opts{digits: 1, noTrailingNL: true}))}
	stepsUfakzeka  = []splitStep{searchStep(qwen2Matcher(qwen2Opts{digits: 1, noContractions: true}))}
	stepsLaguna    = []splitStep{searchStep(lineMatcher), searchStep(qwen2Matcher(qwen2Opts{digits: 1}))}
	stepsMiniCPM5  = []splitStep{searchStep(digitsMatcher(3)), searchStep(qwen2Matcher(qwen2Opts{digits: 0}))}
	stepsBloom     = []splitStep{searchStep(bloomMatcher)}
	stepsViking    = []splitStep{searchStep(bloomMatcher), searchStep(digitsMatcher(1))}
	stepsJais2     = []splitStep{searchStep(qwen2Matcher(qwen2Opts{digits: 3, cascadeSpaces: true}))}
	stepsGPT4o     = []splitStep{searchStep(casedMatcher(casedOpts{contractions: true, digits: 3}))}
	stepsGraniteEM = []splitStep{searchStep(casedMatcher(casedOpts{contractions: true, marks: true, digits: 3}))}
	stepsTekken    = []splitStep{searchStep(casedMatcher(casedOpts{digits: 1}))}
	stepsTinyAya   = []splitStep{splitDigitGroups, searchStep(casedMatcher(casedOpts{contractions: true, caseless: true, digits: 3}))}
	stepsYoutu     = []splitStep{
		searchStep(classRunsMatcher(youtuHangul, youtuPunct, youtuBopomofo, deepseek3CJK)),
		searchStep(casedMatcher(casedOpts{contractions: true, caseless: true, digits: 1})),
	}
	stepsExaoneMoe = []splitStep{searchStep(exaoneMoeMatcher)}
	stepsKimiK2    = []splitStep{splitKimiK2}
	stepsSuperBPE  = []splitStep{searchStep(digitsMatcher(0)), splitDigitTriples}
	stepsAfmoe     = []splitStep{splitDigitGroups, searchStep(classRunsMatcher(afmoeCJK)), searchStep(deepseek3Matcher)}
	stepsChameleon = []splitStep{
		searchStep(sentinelMatcher),
		searchStep(imageMatcher),
		searchStep(chameleonSpaceMatcher),
		searchStep(digitsMatcher(1)),
		searchStep(chameleonPunctMatcher),
		splitGPT2,
	}
	stepsLines      = []splitStep{searchStep(lineMatcher)}
	stepsWhitespace = []splitStep{searchStep(nonSpaceMatcher)}
)

// preTokenizers maps tokenizer.ggml.pre to its pre-tokenizer, following the
// names llama.cpp accepts (llama_vocab::impl::load); any other name is
// rejected by Load, as llama.cpp rejects it.
var preTokenizers = map[string]preTokenizer{}

func init() {
	add := func(p preTokenizer, names ...string) {
		for _, n := range names {
			preTokenizers[n] = p
		}
	}
	add(preTokenizer{steps: stepsDefault}, "default")
	add(preTokenizer{steps: stepsLlama3, ignoreMerges: true, addBOS: true},
		"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano")
	add(preTokenizer{steps: stepsLlama3}, "dbrx", "smaug-bpe")
	add(preTokenizer{steps: stepsLlama3, noBOS: true}, "glm4", "chatglm-bpe")
	add(preTokenizer{steps: stepsDeepseekLLM, keepSpaces: true}, "deepseek-llm")
	add(preTokenizer{steps: stepsDeepseekCoder, keepSpaces: true}, "deepseek-coder")
	add(preTokenizer{steps: stepsDeepseek3, keepSpaces: true}, "deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4")
	add(preTokenizer{steps: stepsFalcon}, "falcon")
	add(preTokenizer{steps: stepsGPT2},
		"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
		"modern-bert", "mpt", "olmo", "jais", "exaone4")
	add(preTokenizer{steps: stepsGPT2, addSep: true}, "jina-v1-en", "jina-v2-code", "roberta-bpe")
	add(preTokenizer{steps: stepsGPT2, keepSpaces: true}, "trillion", "granite-docling")
	add(preTokenizer{steps: stepsStarcoder}, "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2")
	add(preTokenizer{steps: stepsStarcoder, keepSpaces: true}, "command-r", "smollm")
	add(preTokenizer{steps: stepsQwen2, keepSpaces: true},
		"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2",
		"bailingmoe", "bailingmoe2", "llada-moe")
	add(preTokenizer{steps: stepsQwen2}, "stablelm2", "megrez")
	add(preTokenizer{steps: stepsQwen35, keepSpaces: true}, "qwen35")
	add(preTokenizer{steps: stepsSeedCoder, keepSpaces: true}, "seed-coder")
	add(preTokenizer{steps: stepsUfakzeka, keepSpaces: true}, "ufakzeka")
	add(preTokenizer{steps: stepsLaguna, keepSpaces: true}, "laguna")
	add(preTokenizer{steps: stepsMiniCPM5, ignoreMerges: true}, "minicpm5")
	add(preTokenizer{steps: stepsBloom}, "bloom", "gpt3-finnish")
	add(preTokenizer{steps: stepsBloom, keepSpaces: true}, "poro-chat")
	add(preTokenizer{steps: stepsViking, keepSpaces: true}, "viking")
	add(preTokenizer{steps: stepsJais2}, "jais-2")
	add(preTokenizer{steps: stepsGPT4o, keepSpaces: true}, "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2")
	add(preTokenizer{steps: stepsGraniteEM, keepSpaces: true, ignoreMerges: true}, "granite-embed-multi-97m")
	add(preTokenizer{steps: stepsTekken, keepSpaces: true, ignoreMerges: true, addBOS: true}, "tekken")
	add(preTokenizer{steps: stepsTinyAya, keepSpaces: true}, "tiny_aya", "cohere2moe")
	add(preTokenizer{steps: stepsYoutu, keepSpaces: true, ignoreMerges: true}, "youtu")
	add(preTokenizer{steps: stepsExaoneMoe}, "exaone-moe")
	add(preTokenizer{steps: stepsKimiK2, keepSpaces: true, mergesOpt: true}, "kimi-k2")
	add(preTokenizer{steps: stepsSuperBPE, keepSpaces: true}, "superbpe")
	add(preTokenizer{steps: stepsAfmoe, keepSpaces: true}, "afmoe")
	add(preTokenizer{steps: stepsChameleon, keepSpaces: true, addBOS: true}, "chameleon")
	add(preTokenizer{steps: stepsLines, escapeSpaces: true, rawBytes: true, newlineWords: true, forceBOS: true},
		"gemma4", "granite-embed-multi-311m")
	add(preTokenizer{steps: stepsLines, escapeSpaces: true, rawBytes: true, keepSpaces: true}, "sarvam-moe")
	add(preTokenizer{steps: stepsWhitespace, rawBytes: true, keepCase: true}, "whitespace")
}
