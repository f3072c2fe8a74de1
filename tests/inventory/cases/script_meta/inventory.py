#!/usr/bin/env python3
"""An inventory script with _meta.hostvars (Ansible's script protocol)."""

import json
import sys

INVENTORY = {
    "web": {"hosts": ["web2", "web1"], "vars": {"http_port": 8080}, "children": ["edge"]},
    "edge": ["lb1"],
    "db": {"hosts": ["db1"]},
    "solo": {"ansible_host": "10.0.0.9", "role": "odd"},
    "_meta": {
        "hostvars": {
            "web1": {"ansible_host": "10.0.0.1", "tags": ["a", "b"]},
            "db1": {"ansible_port": 2222},
        }
    },
}
if sys.argv[1:] == ["--list"]:
    print(json.dumps(INVENTORY))
else:
    sys.exit(f"unexpected arguments {sys.argv[1:]}")
