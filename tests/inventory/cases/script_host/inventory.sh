#!/bin/sh
# An old-style inventory script without _meta: variables come from --host NAME.
case "$1" in
  --list) echo '{"app": {"hosts": ["app1", "app2"], "vars": {"tier": "front"}}, "ops": ["app2"]}' ;;
  --host)
    case "$2" in
      app1) echo '{"ansible_host": "192.0.2.1", "tier": "override"}' ;;
      *) echo '{}' ;;
    esac ;;
  *) exit 2 ;;
esac
