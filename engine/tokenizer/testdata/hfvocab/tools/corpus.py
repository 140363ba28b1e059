# Deterministic test strings for the pre-tokenizer tests.
import json, random
inp = open('/work/shared/vocab/ggml-vocab-llama-bpe.gguf.inp', encoding='utf-8').read().split('\n__ggml_vocab_test__\n')
inp = [s for s in inp if s != '']
chk = '\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ 🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ ------======= нещо на Български \'\'\'\'\'\'```````""""......!!!!!!?????? I\'ve been \'told he\'s there, \'RE you sure? \'M not sure I\'ll make it, \'D you like some tea? We\'Ve a\'lL'
hand = [
 chk,
 "I'm sure it's fine; we'll see, they've said, you'd know, DON'T SHOUT, I'M HERE, we'RE ok, it'S",
 "HelloWorld JSONParser parseHTTPResponse getURLForID iPhone eBay McDonald's ÉCOLE école ÉcoleNormale",
 "ΑΒΓΔ αβγδ ΑβΓδ ǅemal ǈub Ǆ ʼapostrophe ᵃᵇᶜ ſtraße STRASSE Straße",
 "e\u0301te\u0301 cafe\u0301 n\u0303 a\u0300\u0301\u0302 \u0301start मनुष्य हिन्दी नमस्ते ภาษาไทย สวัสดีครับ",
 "1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890 3.14159 1,000,000 -42 +7 0x1F 1e10",
 "١٢٣٤٥ ۱۲۳ ५६७८ ½ ¾ ① ② Ⅷ ⅷ 𝟙𝟚𝟛 ²³ 12½ 3①4",
 "a  b   c    d     e\t\tf \t g\n\nh\r\ni\r\r\nj \n k",
 " " * 600 + "x" + " " * 37 + "y\t" * 3 + " " * 513,
 "   leading and trailing   ",
 "\u00a0nbsp\u00a0\u00a0x\u3000ideo\u3000\u3000y\u2028line\u2029para\u0085nel\u200bzw\u2009thin",
 "def foo(x: int) -> str:\n    return f\"{x!r}\"  # comment\n\nclass A(B):\n\tpass\n",
 "int main(void) { printf(\"%d\\n\", a[i] << 2 >= b->c ? 1 : 0); return 0; }",
 "{\"key\": [1, 2.5, true, null], \"nested\": {\"a\": \"b\"}}",
 "https://example.com/path/to/file.html?q=1&r=2#frag //comment /usr/local/bin a/b/c ///",
 "SELECT id, name FROM users WHERE age >= 21 AND name LIKE '%smith%' ORDER BY id DESC;",
 "我想在apple工作1314151天～ 你好，世界！这是一个测试。漢字かなカナ混じり文、ひらがな。カタカナ！",
 "한국어 텍스트입니다. 안녕하세요! ㄱㄴㄷ ㅏㅑ ㄅㄆㄇ 注音符號",
 "日本語の文章です。「かぎかっこ」と『二重』…そして—ダッシュ：；，、〜〃",
 "🦙🦙 🚀 😶\u200d🌫️ 👨\u200d👩\u200d👧\u200d👦 👍🏽 🇫🇷🇩🇪 ❤️ ✅ 🏳️\u200d🌈 🤷‍♂️",
 "Привет, мир! Съешь же ещё этих мягких французских булок. ЁЖИК",
 "مرحبا بالعالم، كيف حالك؟ ١٢٣ שלום עולם! ۔ ، ؟",
 "ខ្ញុំស្រឡាញ់ ကျွန်တော် ພາສາລາວ ꩠꩡ ꧠꧡ ᄀᄁ 가각 豈更 \ue000\ue001 \uf8ff",
 "<|endoftext|> <|im_start|>user<|im_end|> <s> </s> <bos> <unused0> [multimodal] <mask> <pad>",
 "<sentinel:0> <sentinel:123>x IMGIMGABCDZ IMGIMGAZ IMGIMGABCDEZ IMGIMGZ <sentinel:>",
 "€100 $5 £3 ¥9 ∑∏∫ → ⇒ ™ © ® ° ± × ÷ ≤ ≥ ≠ ∞ √ ∂ ∇",
 "\x01\x02\x1f\x7f \ufeffbom \ufffdrep \u0378unassigned \U0001F600 \U0010FFFD",
 "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐐷𐐸 𝒳 𝕏 𝐀𝐁𝐂 𝑎𝑏𝑐",
 "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D ' 'x ''s",
 "a!!b??c...d---e___f===g~~~h```i\"\"\"j'''k",
 "!/\n/ ,/// ;\r\n/ x/\ny ./ -/\r/",
 "mixedCASEwords AND lowerUPPER aB Ab ABc abC a1b2c3 A1B2 x_y_z __init__ CONSTANT_NAME",
 "tab\there\tand\tthere\t\t\tdone",
 "\n", "\n\n\n\n", "\r\n\r\n", " \n ", "  \n\n  ", "\t", "x", "X", "Xx", "xX", "'", "''", "1", "12345678901234567890",
 "word  word   word    word\n\n\n\nword",
 "  multiple   spaces   between   words   ",
 "Ünïcödé çåñ bé trïçký: ß ø æ œ ð þ ı İ ŀ",
 "the quick brown fox jumps over the lazy dog THE QUICK BROWN FOX",
 "L'été dernier, j'ai vu l'homme qu'il connaît. Aujourd'hui c'est déjà fini.",
 "Grüße aus München! Die Straße ist 5km lang — oder nicht?",
 "ab1234cd 12ab34 a12345 1.2.3.4 2024-01-15T10:30:00Z 10:30 v1.2.3",
]
pool = list("abcxyzABCXYZ  '''sStTmMdDrRevVlL0123456789\t\n\r.,!?;:/\\-_()[]{}<>@#$%^&*+=|~`\"") + \
  list("éÉßøΩωΣσǅʼᵃ\u0301\u0903\u093e\u0e36ा٣५½①ⅷ²漢字日本のスカ한국ㄱㄅ😀🦙👍🏽❤️\u200d\u00a0\u3000\u2028\u0085。、，！…“”—：«»€∑→™\ue000\u0378𝔘𐐷ก")
rnd = random.Random(20261206)
rand = []
for i in range(110):
    n = rnd.randint(1, 40)
    rand.append(''.join(rnd.choice(pool) for _ in range(n)))
strings = inp + hand + rand
seen=set(); out=[]
for s in strings:
    if s not in seen:
        seen.add(s); out.append(s)
json.dump(out, open('/tmp/pretok/work/strings.json','w'), ensure_ascii=False)
print(len(out), sum(len(s) for s in out))
