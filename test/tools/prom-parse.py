#!/usr/bin/python3
"""Parse Prometheus text exposition from stdin with the Prometheus client
library's own parser (Debian's python3-prometheus-client) and print it as
JSON: {"families": {NAME: {"type", "help"}}, "samples": [{"name", "labels",
"value"}]}. Exits 1 with the parser's message if the text does not parse,
or if a family has no HELP or TYPE line."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    out = {"families": {}, "samples": []}
    try:
        for fam in text_string_to_metric_families(text):
            out["families"][fam.name] = {"type": fam.type, "help": fam.documentation}
            for s in fam.samples:
                out["samples"].append({"name": s.name, "labels": s.labels, "value": s.value})
    except ValueError as e:
        print(f"prom-parse: {e}", file=sys.stderr)
        return 1
    # what the parser forgives: a family without HELP or TYPE
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = line.split("{")[0].split(" ")[0]
            if f"# HELP {name} " not in text or f"# TYPE {name} " not in text:
                print(f"prom-parse: {name} has no HELP or TYPE", file=sys.stderr)
                return 1
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
