// Package chattmpl renders a model's chat template: the Jinja program a GGUF
// file carries under tokenizer.chat_template, which turns a conversation
// (system, user and assistant turns) into the exact prompt text the model
// was trained on.
//
// Rendering follows Hugging Face's apply_chat_template: jinja2's sandbox with
// trim_blocks and lstrip_blocks, loop controls, a no-op {% generation %} tag,
// tojson keeping non-ASCII text, and the globals raise_exception(msg) and
// strftime_now(fmt). The template sees messages, add_generation_prompt,
// bos_token, eos_token, tools and documents (both none), plus any
// caller-supplied variables such as enable_thinking.
//
// The Jinja engine is github.com/ardanlabs/jinja (written for chat
// templates); this package fills its gaps: the source's newlines are
// normalised and one trailing newline dropped as jinja2's lexer does, and
// strftime_now formats with Python's directives from a clock the caller
// can fix. Content given as parts ([{"type": "text", "text": ...}]) is
// passed as parts to templates that render parts and strings alike, and
// joined with "\n" into a string for the others (llama.cpp's rule).
//
// Known differences from jinja2, none of which the tested real templates
// reach on valid conversations: attribute access on an undefined value and
// arithmetic mixing types render leniently instead of failing (a template
// that needs a message the conversation lacks is caught earlier: Parse
// refuses an empty conversation and messages without a role or content);
// none prints as an empty string; whole floats print without ".0"; bools
// are not numbers and strings and dicts not sequences to "is"; tests take
// their argument in parentheses only; and whitespace control on a tag that
// touches another tag can trim text beyond it (seen in 2 of 124 real
// templates checked, GLM-5.2 and ChatQA).
//
// testdata/ holds real templates (Llama 3/3.1/3.2, Qwen2.5, Qwen3, Gemma 2/3,
// Phi-3/3.5/4, Mistral v3 and Tekken, DeepSeek R1/V3, SmolLM2/3, Granite
// 3.0/3.3) with renders recorded by Python's jinja2 (testdata/gen.py); the
// tests hold this package to them byte for byte.
package chattmpl
