"""Each host's surface in history.sqlite: kept once however many hosts and runs share it, read
back as the comparison needs it, kept through pruning while it is a host's baseline."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from driftcheck.fleet.since import Snapshot, surface
from driftcheck.fleet.values import PeerValues, item
from driftcheck.nightly.deltas import annotate
from driftcheck.nightly.history import History
from driftcheck.nightly.rows import MIGRATIONS, SCHEMA_VERSION

from .reports import host, report

IMAGE = {item("tree", f"/etc/file{i:04}"): f"file md5:{i:032x} 0644 root:root" for i in range(2000)}


def snapshot(name: str, **changed: str) -> Snapshot:
    pairs = {**IMAGE, item("tree", "/etc/hostname"): f"file md5:{name} 0644 root:root"}
    pairs.update({item("tree", path): value for path, value in changed.items()})
    found, _ = surface(PeerValues(name, pairs))
    return Snapshot(found, pairs)


def night(history: History, number: int, snapshots: dict[str, Snapshot]) -> None:
    history.record(annotate(report(number, [host(n) for n in snapshots]), history), snapshots)


def counts(history: History) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        history._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
        for t in ("surface_pairs", "surface_buckets", "surfaces")
    )


def test_hosts_of_one_image_share_their_pairs_and_an_unchanged_run_adds_nothing(
    tmp_path: Path,
) -> None:
    names = [f"web{i:02}" for i in range(50)]
    with History(tmp_path / "history.sqlite") as history:
        night(history, 1, {n: snapshot(n) for n in names})
        pairs, buckets, surfaces = counts(history)
        assert pairs == len(IMAGE) + len(names)  # each pair once, however many hosts hold it
        assert surfaces == len(names)  # each host has its own /etc/hostname
        assert buckets <= 64 + len(names)  # at most one bucket of its own per host
        night(history, 2, {n: snapshot(n) for n in names})
        assert counts(history) == (pairs, buckets, surfaces)
        night(history, 3, {**{n: snapshot(n) for n in names}, "web07": snapshot(
            "web07", **{"/etc/file0001": "file md5:edited 0644 root:root"})})  # fmt: skip
        assert counts(history) == (pairs + 1, buckets + 1, surfaces + 1)


def test_the_last_recorded_surface_is_read_back_and_opened_bucket_by_bucket(
    tmp_path: Path,
) -> None:
    edited = {"/etc/file0001": "file md5:edited 0644 root:root"}
    with History(tmp_path / "history.sqlite") as history:
        night(history, 1, {"web01": snapshot("web01"), "web02": snapshot("web02")})
        night(history, 2, {"web01": snapshot("web01", **edited)})  # web02 unreachable
        found = history.last_surfaces(["web01", "web02", "web03"])
        assert set(found) == {"web01", "web02"}
        assert found["web02"].run == report(1, [])["run"]["id"]
        assert found["web01"].run == report(2, [])["run"]["id"]
        now = snapshot("web01", **edited)
        assert found["web01"].surface == now.surface
        index = next(
            i for i, (a, b) in enumerate(zip(found["web01"].surface.digests,
                                              snapshot("web01").surface.digests, strict=True))
            if a != b
        )  # fmt: skip
        opened = found["web01"].pairs(index)
        assert opened[item("tree", "/etc/file0001")] == edited["/etc/file0001"]
        assert opened == {k: v for k, v in now.values.items() if k in opened}


def test_prune_keeps_each_hosts_last_surface_and_drops_the_rest(tmp_path: Path) -> None:
    with History(tmp_path / "history.sqlite") as history:
        night(history, 1, {"web01": snapshot("web01"), "db01": snapshot("db01")})
        for number in (2, 3, 4):  # db01 is in the runs, but unreachable: no surface
            history.record(
                annotate(report(number, [host("web01"), host("db01", status="unreachable")]),
                         history),
                {"web01": snapshot("web01", **{"/etc/motd": f"night {number}"})},
            )  # fmt: skip
        history.prune(1)
        found = history.last_surfaces(["web01", "db01"])
        assert set(found) == {"web01", "db01"}
        assert counts(history)[2] == 2  # web01's night-4 surface and db01's night-1 one
        # the motd values of nights 2 and 3, and their buckets, went with their surfaces
        motd = item("tree", "/etc/motd")
        values = {
            row[0] for row in history._db.execute(
                "SELECT value FROM surface_pairs WHERE item = ?", (motd,))
        }  # fmt: skip
        assert values == {"night 4"}
        pairs, buckets, _ = counts(history)
        assert pairs == len(IMAGE) + 2 + 1  # the image, two host names, night 4's motd
        assert buckets <= 64 + 3
        # what stayed opens whole
        for name, kept in found.items():
            now = snapshot(name, **({"/etc/motd": "night 4"} if name == "web01" else {}))
            assert kept.surface == now.surface
            opened: dict[str, str] = {}
            for index in range(len(kept.surface.digests)):
                opened.update(kept.pairs(index))
            assert opened == now.values


def test_a_version_3_history_gains_the_surface_tables(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:
        for migration in MIGRATIONS[:3]:
            for statement in migration:
                db.execute(statement)
        db.execute("PRAGMA user_version = 3")
    with History(path) as history:
        assert history.schema_version() == SCHEMA_VERSION == 4
        assert history.last_surfaces(["web01"]) == {}
