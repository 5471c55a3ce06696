#!/usr/bin/env python3
"""Re-lays out vector files (or prints a JSON document) in the house style: 2-space indent, any
object or array that fits in 120 columns on one line. Key order and every value are kept
exactly (it only moves white space); the runners compact the text anyway.

Usage: python3 tests/vectors/tools/fmt.py FILES...   (rewrites in place)
"""
import json
import sys

WIDTH = 120


def one_line(v):
    if isinstance(v, dict):
        return "{ " + ", ".join(json.dumps(k, ensure_ascii=False) + ": " + one_line(x) for k, x in v.items()) + " }" if v else "{}"
    if isinstance(v, list):
        return "[" + ", ".join(one_line(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def render(v, indent=0, prefix=""):
    pad = " " * indent
    flat = one_line(v)
    if len(pad) + len(prefix) + len(flat) <= WIDTH or not isinstance(v, (dict, list)) or not v:
        return pad + prefix + flat
    inner = indent + 2
    if isinstance(v, dict):
        items = [render(x, inner, json.dumps(k, ensure_ascii=False) + ": ") for k, x in v.items()]
        return pad + prefix + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [render(x, inner) for x in v]
    return pad + prefix + "[\n" + ",\n".join(items) + "\n" + pad + "]"


def fmt(text):
    return render(json.loads(text)) + "\n"


def main(paths):
    for p in paths:
        with open(p, encoding="utf-8") as f:
            text = f.read()
        new = fmt(text)
        assert json.loads(new) == json.loads(text)
        if new != text:
            with open(p, "w", encoding="utf-8") as f:
                f.write(new)


if __name__ == "__main__":
    main(sys.argv[1:])
