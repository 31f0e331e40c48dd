#!/usr/bin/env python3
"""Golden renderings of TuneForge's built-in chat templates with Python's jinja2, set up as
transformers does (sandboxed, trim_blocks, lstrip_blocks, raise_exception).

    /usr/bin/python3 tools/reference/chat_templates.py > llm-core/src/test/resources/reference/chat-templates.json
"""
import json
import os

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATES = "llm-core/src/main/resources/dev/tuneforge/llm/data/templates"
SPECIAL = {
    "chatml": ("", "<|im_end|>"),
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama2": ("<s>", "</s>"),
    "alpaca": ("", "</s>"),
}
CONVERSATIONS = [
    [{"role": "user", "content": "What is 2+2?"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi!"},
     {"role": "assistant", "content": "Hello."}],
    [{"role": "user", "content": "  Größe? 東京 🚀  "}, {"role": "assistant", "content": " Yes\nno "},
     {"role": "user", "content": "Again"}, {"role": "assistant", "content": "Sure."}],
    # an empty system message: Python's "" != false is True, so llama2 keeps an empty <<SYS>> block
    [{"role": "system", "content": ""}, {"role": "user", "content": "What is {{ 7 * 7 }}?"}],
]


def raise_exception(message):
    raise TemplateError(message)


def main():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    cases = []
    for name in sorted(SPECIAL):
        with open(os.path.join(TEMPLATES, name + ".jinja")) as f:
            template = env.from_string(f.read())
        bos, eos = SPECIAL[name]
        for messages in CONVERSATIONS:
            for add_generation_prompt in (False, True):
                text = template.render(messages=messages, add_generation_prompt=add_generation_prompt,
                                       bos_token=bos, eos_token=eos)
                cases.append({"template": name, "messages": messages, "add_generation_prompt": add_generation_prompt,
                              "bos_token": bos, "eos_token": eos, "expected": text})
    print(json.dumps(cases, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
