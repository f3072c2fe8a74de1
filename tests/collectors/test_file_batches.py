"""The file batches of the collector script (one `stat`, one `sha256sum` for every file they
can take) must observe exactly what one process per file observes, whatever the tree holds:
the per-file path, long tested on its own, is the oracle. Real shells, real files."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from driftcheck.collectors import script
from driftcheck.model import DeclaredState, FileSpec, FileState
from tests.tools import require_root, require_tools

from .test_script_local import NONCE, SHELLS, rooted, run

NEWLINE_NAME = "new\nline.conf"
BACKSLASH_NAME = "back\\slash.conf"


def regular_tree(root: Path) -> dict[str, FileSpec]:
    """Files that all exist and are regular: both batches apply, a few names cannot."""
    names = ["a.conf", NEWLINE_NAME, "b.conf", BACKSLASH_NAME, "it's $(touch PWNED).conf"]
    for i, name in enumerate(names):
        (root / name).write_bytes(f"file {i}\n".encode() * (i + 1))
    (root / "big").write_bytes(b"x" * 3000)
    specs = {
        "a.conf": FileSpec("", content="file 0\n", mode="0644"),
        NEWLINE_NAME: FileSpec("", sha256="0" * 64),
        "b.conf": FileSpec("", mode="0600"),
        BACKSLASH_NAME: FileSpec("", content="x"),
        "it's $(touch PWNED).conf": FileSpec("", sha256="0" * 64, sensitive=True),
        "big": FileSpec("", content="x"),
        "gone": FileSpec("", absent=True),
        "nodir/gone": FileSpec("", absent=True),
    }
    return rooted(root, specs)


def broken_tree(root: Path) -> dict[str, FileSpec]:
    """The same, with drift that defeats the batches: a declared file missing in the middle, a
    symlink and a directory where digests are wanted, a declared-absent file present."""
    specs = regular_tree(root)
    (root / "b.conf").unlink()
    (root / "gone").write_text("back again\n")
    (root / "link").symlink_to("a.conf")
    (root / "dir").mkdir()
    return specs | rooted(
        root, {"link": FileSpec("", sha256="0" * 64), "dir": FileSpec("", content="")}
    )


def observe(
    shell: list[str], files: dict[str, FileSpec], cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, FileState], dict[str, FileState]]:
    """(batched, one process per file) observations of the same files."""
    state = DeclaredState(files=files)
    batched = run(shell, state, cwd)
    with monkeypatch.context() as m:
        m.setattr(script, "_how", lambda spec: "-")
        single = run(shell, state, cwd)
    assert batched.files.ok, batched.files.reason
    assert single.files.ok, single.files.reason
    return dict(batched.files.value), dict(single.files.value)


@pytest.mark.parametrize("tree", [regular_tree, broken_tree])
@pytest.mark.parametrize("shell", SHELLS)
def test_batches_observe_what_single_files_observe(
    shell: list[str],
    tree: Callable[[Path], dict[str, FileSpec]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_tools(shell[0])
    root = tmp_path / "tree"
    root.mkdir()
    batched, single = observe(shell, tree(root), tmp_path, monkeypatch)
    assert batched == single
    assert not list(tmp_path.rglob("PWNED*")), "a declared name was executed"
    a = batched[str(root / "a.conf")]
    assert (a.exists, a.content, a.sha256 is not None) == (True, b"file 0\n", True)
    assert batched[str(root / BACKSLASH_NAME)].content == b"file 3\n" * 4
    assert batched[str(root / "big")].content_truncated


def test_batches_are_used_one_process_each(tmp_path: Path) -> None:
    """When every file is there: one stat and one sha256sum for all that they can take, and no
    process at all for a declared-absent file whose directory can be searched."""
    root = tmp_path / "tree"
    root.mkdir()
    state = DeclaredState(files=regular_tree(root))
    text = script.build_script(state, NONCE, content_cap=1000)
    proc = subprocess.run(
        ["sh", "-x", "-s"], input=text.encode(), capture_output=True, check=False, timeout=60
    )
    traced = proc.stderr.decode(errors="replace").splitlines()
    # (sh -x traces each command; the file stats are the only `stat -c %f` ones)
    file_stats = [line for line in traced if line.startswith("+ stat -c %f")]
    assert len(file_stats) == 2, file_stats  # the batch, and `nodir/gone` (no such directory)
    assert "nodir/gone" in file_stats[1]
    digests = [line for line in traced if line.startswith("+ sha256sum")]
    assert len(digests) == 3, digests  # the batch, and the newline and backslash names


def test_absent_file_in_an_unsearchable_directory_is_unknown_not_absent() -> None:
    """dc_absent must not take "cannot see it" for "not there": as nobody, a file in a 0700
    directory is a permission error, exactly as stat says."""
    require_root()
    require_tools("setpriv")
    with tempfile.TemporaryDirectory(dir="/tmp") as where:  # pytest's tmp_path is root-only
        Path(where).chmod(0o755)
        locked = Path(where) / "locked"
        locked.mkdir(mode=0o700)
        path = str(locked / "telnetd.conf")
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-s"]
        observed = run(nobody, DeclaredState(files={path: FileSpec(path, absent=True)}), locked)
        assert observed.files.value[path].error == "cannot stat: Permission denied"
