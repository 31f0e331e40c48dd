#!/usr/bin/env python3
"""Golden assistant masks as TRL's SFTTrainer makes them with assistant_only_loss=True.

TRL (trl/trainer/sft_trainer.py) swaps a template without {% generation %} markers for its own
training variant, chosen by the exact text of the original (trl/chat_template_utils.py,
get_training_chat_template), and transformers turns the generation blocks into character spans
(return_assistant_tokens_mask). This script renders TRL's own training templates, read from a TRL
checkout, with Debian's python3-jinja2 set up as transformers sets it up (jinja_conformance.py), and
records each conversation's text and the code-point spans of its generation blocks. It also records
whether the published template is the one TRL identifies (same text as TRL's copy of the original).

    TRL_GIT=/work/.mirror/huggingface+trl/repo /usr/bin/python3 tools/reference/trl_masks.py \
        > llm-core/src/test/resources/reference/trl-masks.json
"""
import json
import os
import subprocess
import sys

import jinja2.ext
from jinja2.exceptions import TemplateError

sys.path.insert(0, os.path.dirname(__file__))
import jinja_conformance  # noqa: E402

START, END = "\ue000", "\ue001"  # private-use characters no conversation below contains

# published template (llm-core/src/test/resources/reference/published-templates) -> TRL's original
# and training variant
PAIRS = {"qwen2_5": "qwen2_5", "qwen3": "qwen3", "qwen3_trl": "qwen3", "gemma2": "gemma", "gemma3": "gemma3",
         "phi3": "phi3", "phi3_5": "phi3_5"}


class Generation(jinja_conformance.Generation):
    """transformers' AssistantTracker, with the span recorded as marker characters in the text."""

    def _render(self, caller):
        return START + caller() + END


def trl_file(git, name):
    return subprocess.run(["git", "--git-dir=" + git, "show", "HEAD:trl/chat_templates/" + name],
                          check=True, capture_output=True, text=True).stdout


def spans(marked):
    text, result, start = [], [], None
    for ch in marked:
        if ch == START:
            start = len(text)
        elif ch == END:
            result.append([start, len(text)])
        else:
            text.append(ch)
    return "".join(text), result


CONVERSATIONS = {name: messages for name, messages in jinja_conformance.CONVERSATIONS.items()
                 if any(m["role"] == "assistant" for m in messages)}
CONVERSATIONS["reasoning-multi-turn"] = [
    {"role": "system", "content": "Think first."}, {"role": "user", "content": "2+2?"},
    {"role": "assistant", "content": "<think>\nadd\n</think>\n\n4"}, {"role": "user", "content": "3+3? 😀"},
    {"role": "assistant", "content": "6"}]


def main():
    git = os.environ.get("TRL_GIT", "/work/.mirror/huggingface+trl/repo")
    head = subprocess.run(["git", "--git-dir=" + git, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
    env = jinja_conformance.environment()
    env.extensions.clear()
    env.add_extension(Generation)
    env.add_extension(jinja2.ext.loopcontrols)
    cases = []
    for published, trl in sorted(PAIRS.items()):
        with open(os.path.join(jinja_conformance.PUBLISHED, published + ".json")) as f:
            fixture = json.load(f)
        original = trl_file(git, trl + ".jinja")
        training = env.from_string(trl_file(git, trl + "_training.jinja"))
        special = {k: fixture[k] for k in ("bos_token", "eos_token") if k in fixture}
        for conversation, messages in CONVERSATIONS.items():
            tools = jinja_conformance.TOOLS if conversation == "tools" else None
            case = {"published": published, "trl_identifies_it": fixture["chat_template"] == original,
                    "conversation": conversation, "messages": messages, "tools": tools}
            try:
                marked = training.render(**special, messages=messages, tools=tools, documents=None,
                                         add_generation_prompt=False)
                case["text"], case["spans"] = spans(marked)
            except TemplateError as e:  # the template refuses the conversation (raise_exception)
                case["error"] = str(e)
            cases.append(case)
    print(json.dumps({"trl_commit": head, "cases": cases}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
