"""The lab's declared state (states/*.yml beside the inventory) and the files hosts start with.

Hostile data on purpose: HTML/JS, non-UTF-8 bytes, and file names with quotes, spaces, `$(...)`
and backticks that would create a marker file if anything ever executed them.
"""

from __future__ import annotations

import functools
import hashlib
import json

from tests.lab import debs

PWNED = "/tmp/PWNED-lab"  # must never exist on any host after a scan
INDEX_HTML = "/srv/www/index.html"
RAW_BIN = "/srv/www/raw.bin"
ODD_FILE = f'/srv/odd dir/it\'s "quoted" $(touch {PWNED}) <b onmouseover=alert(1)>.conf'
ABSENT_ODD = f'/etc/it\'s "odd" $(touch {PWNED}) `touch {PWNED}`.conf'
BLOB = "/srv/blob.bin"
BLOB_MB = 50
SECRET_KEY = "/etc/acme/secret.key"
SECRET = b"acme-secret-token-4f1c9a\n"

INDEX = (
    '<h1>welcome</h1>\n<script>alert(1)</script>\n"><img src=x onerror=alert(1)>\n</script><!--\n'
)
RAW = b"\xff\xfe\x00 binary \x80\x81 <script>alert(1)</script>\n"
ODD_CONTENT = b"x = 1\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def blob() -> bytes:
    return bytes(range(256)) * 4096 * BLOB_MB


def odd_files() -> dict[str, tuple[bytes, int]]:
    return {
        INDEX_HTML: (INDEX.encode(), 0o644),
        RAW_BIN: (RAW, 0o644),
        ODD_FILE: (ODD_CONTENT, 0o644),
    }


def yaml_str(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def all_yml() -> str:
    return f"""# Every lab host. Written by tests/lab/states.py.
packages:
  openssh-server: present
  sudo: present
  acme-agent: ">= 1.3"
  acme-debug: absent
  telnetd: absent
files:
  {debs.AGENT_CONF_PATH}:
    template: templates/agent.conf.j2
    mode: "0644"
    owner: root
    group: root
  /etc/ssh/sshd_config:
    mode: "0644"
    owner: root
  {yaml_str(ABSENT_ODD)}: absent
services:
  acme-agent: {{running: true, enabled: true}}
  ssh: {{running: true, enabled: true}}
host:
  max_age: 30d
  max_zombies: 0
"""


WEB_YML = """# Web servers pin the agent exactly.
packages:
  acme-agent: "1.4.0"
"""

AGENT_TEMPLATE = "server = {{ acme_server }}\ninterval = {{ acme_interval }}\n"


def db_yml() -> str:
    return f"""# A root-only secret: only readable through sudo -n (ansible_become).
files:
  {SECRET_KEY}:
    sha256: "{sha256(SECRET)}"
    mode: "0600"
    owner: root
    group: root
    sensitive: true
"""


def storage_yml() -> str:
    return f"""# A {BLOB_MB} MB blob: compared by digest on the host, never transferred.
files:
  {BLOB}:
    sha256: "{sha256(blob())}"
    mode: "0644"
"""


def odd_yml() -> str:
    index = "".join(f"      {line}\n" for line in INDEX.splitlines())
    return f"""# Hostile content and names: data, never code or markup.
files:
  {INDEX_HTML}:
    content: |
{index}    mode: "0644"
  {RAW_BIN}:
    sha256: "{sha256(RAW)}"
  {yaml_str(ODD_FILE)}:
    content: {yaml_str(ODD_CONTENT.decode())}
    mode: "0644"
"""


APP_IMAGE = "localhost/app:1.4"
DEBIAN_IMAGE = "localhost/debian:12"
APP_CONF_PATH = "/etc/app.conf"
APP_CONF = "listen 80\n"

# ctr01 runs podman, ctr02 the docker command (podman-docker); each container is one drift case.
CTR01_YML = f"""# podman by hand: a wrong image, a file and a package changed inside, a zombie leak.
containers:
  web: {{image: "localhost/app:1.4", running: true}}
  conf: {{image: "{APP_IMAGE}", running: true, state: containers/app.yml}}
  pkg: {{image: "{DEBIAN_IMAGE}", running: true, state: containers/debian.yml}}
  leaky: {{image: "{APP_IMAGE}", running: true, state: containers/busybox.yml}}
unexpected_containers: report
"""
CTR02_YML = f"""# The docker command: one compliant container, one stopped, one missing, one debug.
containers:
  ok: {{image: "{DEBIAN_IMAGE}", running: true, state: containers/debian.yml}}
  db: {{image: "{APP_IMAGE}", running: true}}
  cache: {{image: "{APP_IMAGE}", running: true}}
  debug-shell: absent
unexpected_containers: report
"""
CONTAINER_APP_YML = f"""# Inside the app containers.
files:
  {APP_CONF_PATH}:
    content: {yaml_str(APP_CONF)}
    mode: "0644"
"""
CONTAINER_DEBIAN_YML = """# Inside Debian containers: dpkg is there, nothing installed by hand.
packages:
  dpkg: present
  acme-debug: absent
"""
CONTAINER_BUSYBOX_YML = f"""# busybox only: no package database, so the package check is unknown.
packages:
  curl: absent
files:
  {APP_CONF_PATH}:
    sha256: "{sha256(APP_CONF.encode())}"
"""


def state_files() -> dict[str, str]:
    """Relative path under states/ -> text."""
    return {
        "ctr01.yml": CTR01_YML,
        "ctr02.yml": CTR02_YML,
        "containers/app.yml": CONTAINER_APP_YML,
        "containers/debian.yml": CONTAINER_DEBIAN_YML,
        "containers/busybox.yml": CONTAINER_BUSYBOX_YML,
        "all.yml": all_yml(),
        "web.yml": WEB_YML,
        "db.yml": db_yml(),
        "storage.yml": storage_yml(),
        "odd.yml": odd_yml(),
        "templates/agent.conf.j2": AGENT_TEMPLATE,
    }


def declared_files(groups: tuple[str, ...]) -> list[str]:
    """The files a host's state declares (for checking that a scan changed none of them)."""
    paths = [debs.AGENT_CONF_PATH, "/etc/ssh/sshd_config"]
    extra = {"db": [SECRET_KEY], "storage": [BLOB], "odd": [INDEX_HTML, RAW_BIN, ODD_FILE]}
    for group in groups:
        paths += extra.get(group, [])
    return paths


GROUP_VARS_ALL = """acme_server: acme.lab.invalid
acme_interval: 60
"""
