package chattmpl

// ChatMLSource is the template used for models whose file has none:
// llama.cpp's fallback, ChatML.
const ChatMLSource = "{%- for message in messages %}" +
	"{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
	"{%- endfor %}" +
	"{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"

var chatML = func() *Template {
	t, err := Compile(ChatMLSource)
	if err != nil {
		panic(err)
	}
	return t
}()

// ChatML returns the ChatML template.
func ChatML() *Template { return chatML }
