package chattmpl_test

import (
	"fmt"

	"github.com/llmsql/llmsql/engine/chattmpl"
)

func Example() {
	// A model's tokenizer.chat_template (here SmolLM2's).
	tmpl, err := chattmpl.Compile("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}" +
		"{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}" +
		"{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
		"{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
	if err != nil {
		panic(err)
	}
	msgs, err := chattmpl.ParseMessages([]byte(`[{"role": "user", "content": "Hi!"}]`))
	if err != nil {
		panic(err)
	}
	prompt, err := tmpl.Render(msgs, chattmpl.Options{AddGenerationPrompt: true})
	if err != nil {
		panic(err)
	}
	fmt.Print(prompt)
	// Output:
	// <|im_start|>system
	// You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
	// <|im_start|>user
	// Hi!<|im_end|>
	// <|im_start|>assistant
}
