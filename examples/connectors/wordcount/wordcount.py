#!/usr/bin/env python3
"""A custom Pilot connector: reads one JSON request on stdin, answers one JSON object on stdout."""
import collections
import json
import sys


def count(text, min_length=0):
    words = [w for w in text.split() if len(w) >= min_length]
    return {"words": len(words), "lines": len(text.splitlines()), "characters": len(text)}


def top(text, limit=5):
    counts = collections.Counter(w.strip(".,;:!?\"'()").lower() for w in text.split())
    counts.pop("", None)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"word": word, "count": n} for word, n in ranked]


def main():
    request = json.load(sys.stdin)
    action, given = request["action"], request["input"]
    if action == "count":
        output = count(given["text"], given.get("min_length") or 0)
    elif action == "top":
        output = top(given["text"], given.get("limit") or 5)
    else:
        json.dump({"error": f"unknown action {action!r}"}, sys.stdout)
        return
    json.dump({"output": output}, sys.stdout)


if __name__ == "__main__":
    main()
