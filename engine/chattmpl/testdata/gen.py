#!/usr/bin/python3
"""Records the expected renders of the chat templates in this folder.

Run with Debian's python3 (python3-jinja2): /usr/bin/python3 gen.py [DIR]
It reads DIR/templates.json and DIR/templates/*.jinja (DIR defaults to this
script's folder) and writes DIR/golden.json.

Jinja2 is set up as Hugging Face transformers' apply_chat_template sets it up
(transformers/utils/chat_template_utils.py): an ImmutableSandboxedEnvironment
with trim_blocks and lstrip_blocks, the loopcontrols extension and a no-op
{% generation %} tag (transformers' AssistantTracker), tojson as json.dumps with
ensure_ascii=False, and the globals raise_exception and strftime_now. The
template gets messages, add_generation_prompt, tools=None, documents=None,
bos_token and eos_token, plus the case's variables. strftime_now reads a fixed
clock (NOW) so renders are reproducible; the Go tests use the same instant.

Content given as parts ([{"type": "text", "text": ...}]) is normalised first,
as llmsql does (engine/chattmpl): a template that renders a one-message probe
the same with string and with parts content gets parts; otherwise text parts
are joined with "\\n" into a string (llama.cpp's rule).
"""
import json
import os
import sys
from datetime import datetime

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = datetime(2025, 3, 7, 9, 30, 15)


class Generation(jinja2.ext.Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.Scope(body).set_lineno(lineno)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return NOW.strftime(fmt)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(tmpl, meta, messages, add_generation_prompt, variables):
    ctx = dict(messages=messages, tools=None, documents=None,
               add_generation_prompt=add_generation_prompt,
               bos_token=meta["bos_token"], eos_token=meta["eos_token"])
    ctx.update(variables)
    return tmpl.render(**ctx)


PROBE = "chattmpl-probe"


def parts_mode(tmpl):
    """'parts' when the template renders parts content as it renders the
    same text as a string, else 'string'."""
    nometa = {"bos_token": "", "eos_token": ""}

    def probe(content):
        try:
            return render(tmpl, nometa, [{"role": "user", "content": content}], True, {})
        except Exception:
            return None
    s = probe(PROBE)
    p = probe([{"type": "text", "text": PROBE}])
    return "parts" if s is not None and s == p else "string"


def normalise(messages, mode):
    if mode == "parts":
        return messages
    out = []
    for m in messages:
        c = m.get("content")
        if isinstance(c, list):
            m = dict(m)
            m["content"] = "\n".join(p.get("text", "") for p in c if p.get("type") == "text")
        out.append(m)
    return out


def main():
    here = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    spec = json.load(open(os.path.join(here, "templates.json"), encoding="utf-8"))
    env = environment()
    cases = []
    modes = {}
    for name, meta in spec["templates"].items():
        src = open(os.path.join(here, "templates", name + ".jinja"), encoding="utf-8", newline="").read()
        tmpl = env.from_string(src)
        modes[name] = parts_mode(tmpl)
        convs = spec["conversations"]
        for conv in meta.get("conversations", list(convs)):
            for agp in (True, False):
                for variables in meta.get("variables", [{}]):
                    messages = convs[conv]
                    case = {"template": name, "conversation": conv, "add_generation_prompt": agp, "variables": variables}
                    try:
                        case["output"] = render(tmpl, meta, normalise(messages, modes[name]), agp, variables)
                    except jinja2.exceptions.UndefinedError as e:
                        case["error"] = {"kind": "undefined", "message": str(e)}
                    except jinja2.exceptions.TemplateError as e:
                        case["error"] = {"kind": "raise", "message": str(e)}
                    except Exception as e:
                        case["error"] = {"kind": type(e).__name__, "message": str(e)}
                    cases.append(case)
    out = {
        "generator": "gen.py, jinja2 %s, python %s" % (jinja2.__version__, sys.version.split()[0]),
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%S"),
        "parts": modes,
        "cases": cases,
    }
    with open(os.path.join(here, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errs = sum(1 for c in cases if "error" in c)
    print("%d cases (%d errors) over %d templates" % (len(cases), errs, len(modes)))


if __name__ == "__main__":
    main()
