"""Faults during a build leave the served data and the previous build exactly as they were.

A build directory on a size-limited file system (a tmpfs mounted for the test) is served by the
real server; then builds are killed with SIGKILL at random points, run out of disk space, read
a corrupt record or ontology file, or fail validation. After each: the same CURRENT, the same
bytes in every served file (dump, dumps, redirects), the old store opens and answers, and the
running server gives the same answers with the same ETags. A build killed after it switched
must leave the new build whole (never a mix).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import LiveServer, mount_tmpfs, run_cli, start_server, stop_server, used_bytes

from santecyber.build import build
from santecyber.errors import InputError
from santecyber.paths import ONTOLOGY_DIR, ROOT
from santecyber.store import BuildDirectory

ATTACK = "https://w3id.org/santecyber/id/attack/2021-02-ch-dax"
LABEL_QUERY = (
    f"SELECT ?label WHERE {{ <{ATTACK}> <http://www.w3.org/2000/01/rdf-schema#label> ?label "
    'FILTER(lang(?label) = "en") }'
)
JSON = {"Accept": "application/sparql-results+json"}
MOUNT_SIZE = 64 << 20


def resize(target: Path, size: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(target)], check=True)


@dataclass
class Site:
    mount: Path
    data: Path
    directory: BuildDirectory
    server: LiveServer


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("faults")
    mount = root / "small-disk"
    why = mount_tmpfs(mount, MOUNT_SIZE)
    if why is not None:
        pytest.skip(why)
    try:
        data = root / "data"
        shutil.copytree(ROOT / "data", data)
        directory = BuildDirectory(mount / "build")
        build(data, directory, validate=False)
        server = start_server(directory.root, root / "server.log")
        try:
            yield Site(mount, data, directory, server)
        finally:
            stop_server(server)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def served_files(directory: BuildDirectory) -> dict[str, str]:
    """sha256 of every file the server reads: pointer, dump, dumps (not temporaries), redirects."""
    root = directory.root
    paths = [directory.pointer, directory.dump, root / "redirects.json"]
    dumps = root / "dumps"
    if dumps.is_dir():
        paths += sorted(p for p in dumps.iterdir() if not p.name.startswith("."))
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
        if p.exists()
    }


@dataclass(frozen=True)
class Served:
    label: str
    etag: str
    page_etag: str
    dumps: str


def ask_server(server: LiveServer) -> Served:
    with server.client() as client:
        answer = client.get("/sparql", params={"query": LABEL_QUERY}, headers=JSON)
        page = client.get("/id/attack/2021-02-ch-dax.ttl")
        dumps = client.get("/dumps/index.json")
    assert answer.status_code == page.status_code == dumps.status_code == 200
    label = answer.json()["results"]["bindings"][0]["label"]["value"]
    return Served(label, answer.headers["etag"], page.headers["etag"], dumps.text)


def store_label(directory: BuildDirectory) -> str:
    """The label, read from the store CURRENT names, opened read-only as the server does."""
    store, _ = directory.open_current()
    solutions = list(store.query(LABEL_QUERY))
    assert len(solutions) == 1
    named = sum(
        1 for q in store.quads_for_pattern(None, None, None) if q.graph_name != ox.DefaultGraph()
    )
    assert named == directory.dump.read_bytes().count(b"\n")
    return solutions[0]["label"].value


@dataclass(frozen=True)
class State:
    files: dict[str, str]
    label: str
    served: Served


def state(site: Site) -> State:
    return State(served_files(site.directory), store_label(site.directory), ask_server(site.server))


def assert_unchanged(site: Site, before: State) -> None:
    after = state(site)
    assert after.files == before.files
    assert after.label == before.label
    assert after.served == before.served


def relabel(data: Path, label: str) -> None:
    path = data / "incidents" / "2021-02-ch-dax.yaml"
    text = path.read_text(encoding="utf-8")
    current = text.split("  en: ", 1)[1].split("\n", 1)[0]
    path.write_text(text.replace(f"  en: {current}\n", f"  en: {label}\n", 1), encoding="utf-8")


def santecyber(*arguments: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "santecyber.cli", *map(str, arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_build(site: Site, *options: str) -> subprocess.CompletedProcess[str]:
    process = santecyber("build", "--data", site.data, "--build-dir", site.directory.root, *options)
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


# bad input


def test_corrupt_record_changes_nothing(site: Site):
    before = state(site)
    path = site.data / "incidents" / "2023-06-chu-rennes.yaml"
    original = path.read_text(encoding="utf-8")
    relabel(site.data, "a label that never gets served")
    path.write_text(original.replace("targets: [chu-rennes]", "targets: [chu-rennes\n  - {"))
    try:
        done = run_build(site)
    finally:
        path.write_text(original, encoding="utf-8")
    assert done.returncode == 2
    assert "2023-06-chu-rennes.yaml:" in done.stderr and "Traceback" not in done.stderr
    assert "nothing was changed" in done.stderr
    assert_unchanged(site, before)


def test_corrupt_ontology_changes_nothing(site: Site, tmp_path: Path):
    before = state(site)
    ontology = tmp_path / "ontology"
    shutil.copytree(ONTOLOGY_DIR, ontology)
    turtle = ontology / "santecyber.ttl"
    lines = turtle.read_text(encoding="utf-8").splitlines(keepends=True)
    broken_line = len(lines) // 2
    lines.insert(broken_line, "sc:broken a owl:Class ; rdfs:label 'unterminated .\n")
    turtle.write_text("".join(lines), encoding="utf-8")
    relabel(site.data, "a label that never gets served")
    with pytest.raises(InputError) as failure:
        build(site.data, site.directory, validate=False, ontology_dir=ontology)
    assert "santecyber.ttl:" in str(failure.value)
    assert_unchanged(site, before)


def test_validation_failure_changes_nothing(site: Site):
    before = state(site)
    path = site.data / "incidents" / "2023-06-chu-rennes.yaml"
    original = path.read_text(encoding="utf-8")
    start = '  - property: start\n    value: "2023-06-21"\n    status: resolved'
    assert start in original
    later = start.replace("2023-06-21", "2023-06-25").replace("resolved", "stated")
    path.write_text(original.replace(start, later), encoding="utf-8")
    relabel(site.data, "a label that never gets served")
    try:
        done = run_build(site)
    finally:
        path.write_text(original, encoding="utf-8")
    assert done.returncode == 1, done.stderr
    assert "2023-06-chu-rennes.yaml" in done.stderr and "Violation" in done.stderr
    assert "Traceback" not in done.stderr
    assert_unchanged(site, before)


# disk full


def test_disk_full_changes_nothing(site: Site):
    """Builds that run out of space at several points (store, dump, dumps) change nothing."""
    before = state(site)
    relabel(site.data, "a label that never fits on the disk")
    used = used_bytes(site.mount)
    needed = used  # a second build needs about as much as the first (store, dump, dumps)
    try:
        for fraction in (0.02, 0.3, 0.55, 0.7, 0.8, 0.9, 0.95):
            resize(site.mount, used + int(needed * fraction))
            done = run_build(site, "--skip-validation")
            if done.returncode == 0:  # it fitted after all: the point is what fails
                pytest.fail(f"a build fitted in {fraction:.0%} of the space: {done.stdout}")
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
            assert "No space left on device" in done.stderr
            assert_unchanged(site, before)
            # and it cleaned up after itself: the space is free again
            assert used_bytes(site.mount) == used, fraction
    finally:
        resize(site.mount, MOUNT_SIZE)


# killed


def snapshot_of_build(data: Path, tmp: Path) -> dict[str, str]:
    """What a complete build of ``data`` leaves in the served files."""
    directory = BuildDirectory(tmp / uuid.uuid4().hex)
    build(data, directory, validate=False)
    return served_files(directory)


def test_killed_builds_leave_old_or_new_never_a_mix(site: Site, tmp_path: Path):
    rng = random.Random(7)
    relabel(site.data, "Dax, built whole once")
    started = time.monotonic()
    done = run_build(site, "--skip-validation")
    duration = time.monotonic() - started  # a scale for the random delays, nothing is timed
    assert done.returncode == 0, done.stderr
    kills = 0
    for attempt in range(6):
        before = state(site)
        label = f"Dax, build {attempt} killed"
        relabel(site.data, label)
        whole = snapshot_of_build(site.data, tmp_path)
        process = santecyber(
            "build", "--data", site.data, "--build-dir", site.directory.root, "--skip-validation"
        )
        time.sleep(rng.uniform(0.3, 1.05) * duration)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=60)
        after = state(site)
        if after.files == before.files:
            assert after.label == before.label and after.served == before.served
        else:  # it switched before it was killed: then the whole new build is served
            assert after.files == whole
            assert after.label == label and after.served.label == label
    assert kills >= 3  # most attempts did kill a build in progress
    # and the next build, not killed, goes through
    relabel(site.data, "Dax, after the kills")
    done = run_build(site, "--skip-validation")
    assert done.returncode == 0, done.stderr
    assert ask_server(site.server).label == "Dax, after the kills"


def test_old_store_is_kept_and_answers(site: Site):
    """The store before the current one stays on disk and opens, for queries still on it."""
    stores = [p for p in site.directory.stores.iterdir() if not p.name.startswith(".")]
    current = site.directory.current_version()
    previous = [p for p in stores if p.name != current]
    assert previous
    for path in previous:
        assert list(ox.Store.read_only(str(path)).query(LABEL_QUERY))
    with httpx.Client(base_url=site.server.url, timeout=60) as client:
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200


# what killed builds leave behind


def kill_when(process: subprocess.Popen[str], reached, seconds: float = 300) -> bool:
    """SIGKILL ``process`` as soon as ``reached()`` is true; False if it ended before."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        if reached():
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=60)
            return True
        time.sleep(0.002)
    process.communicate(timeout=60)
    return False


def leftovers(directory: BuildDirectory) -> list[str]:
    """Staging stores and temporaries, anywhere a build writes them."""
    root = directory.root
    found = [*directory.stores.glob(".staging-*"), *root.glob(".*.tmp"), *root.glob(".*.link")]
    return sorted(str(p.relative_to(root)) for p in found)


def store_names(directory: BuildDirectory) -> set[str]:
    return {p.name for p in directory.stores.iterdir() if not p.name.startswith(".")}


def test_next_build_removes_what_killed_builds_left(tmp_path: Path, data_copy: Path):
    """Builds killed while writing their store (and one killed after it, before publishing)
    leave staging folders and stores nobody serves; the next build removes them and keeps the
    store in service and the previous one, while the server answers throughout."""
    directory = BuildDirectory(tmp_path / "build")
    build(data_copy, directory, validate=False)
    first = directory.current_version()
    relabel(data_copy, "Dax, second build")
    build(data_copy, directory, validate=False)
    second = directory.current_version()
    server = start_server(directory.root, tmp_path / "server.log")
    try:
        served = ask_server(server)
        assert served.label == "Dax, second build"
        for attempt in range(2):  # killed while RocksDB writes the staging store
            relabel(data_copy, f"Dax, killed while staging {attempt}")
            process = santecyber(
                "build", "--data", data_copy, "--build-dir", directory.root, "--skip-validation"
            )
            own = f".staging-*-{process.pid}"
            assert kill_when(process, lambda own=own: any(directory.stores.glob(own)))
            # only the staging of the build just killed: the one killed before was removed by
            # this build as it started
            staging = [p.name for p in directory.stores.glob(".staging-*")]
            assert len(staging) == 1 and staging[0].endswith(f"-{process.pid}"), staging
        # killed after its store was renamed into stores/, before CURRENT names it
        relabel(data_copy, "Dax, killed before publishing")
        process = santecyber(
            "build", "--data", data_copy, "--build-dir", directory.root, "--skip-validation"
        )
        assert kill_when(process, lambda: len(store_names(directory)) > 2)
        assert not any(directory.stores.glob(".staging-*"))
        assert len(store_names(directory)) == 3 and {first, second} < store_names(directory)
        assert directory.current_version() == second
        assert ask_server(server) == served  # nothing the server reads was touched

        relabel(data_copy, "Dax, built after the kills")
        done = run_build(Site(tmp_path, data_copy, directory, server), "--skip-validation")
        assert done.returncode == 0, done.stderr
        assert leftovers(directory) == []
        third = directory.current_version()
        assert store_names(directory) == {second, third}  # in service, and the one before
        assert ask_server(server).label == "Dax, built after the kills"
        assert list(ox.Store.read_only(str(directory.stores / second)).query(LABEL_QUERY))
    finally:
        stop_server(server)


def dump_folders(directory: BuildDirectory) -> set[str]:
    root = directory.root
    return {p.name for p in root.glob("dumps.*") if p.is_dir() and not p.is_symlink()}


def test_next_build_removes_dumps_of_killed_builds(tmp_path: Path, data_copy: Path):
    """A build killed while writing its dumps leaves a dumps folder nobody serves; the server's
    answers and dumps stay as they were, and the next build removes the folder while keeping
    the dumps in service and the previous ones."""
    directory = BuildDirectory(tmp_path / "build")
    build(data_copy, directory, validate=False)
    relabel(data_copy, "Dax, second build")
    build(data_copy, directory, validate=False)
    root = directory.root
    second = os.readlink(root / "dumps")
    first = os.readlink(root / "previous-dumps")
    assert dump_folders(directory) == {first, second}
    server = start_server(root, tmp_path / "server.log")
    try:
        served, files = ask_server(server), served_files(directory)
        for attempt in range(2):
            relabel(data_copy, f"Dax, killed while writing dumps {attempt}")
            process = santecyber(
                "build", "--data", data_copy, "--build-dir", root, "--skip-validation"
            )
            before = dump_folders(directory)
            assert kill_when(process, lambda before=before: dump_folders(directory) - before)
            assert os.readlink(root / "dumps") == second
            assert ask_server(server) == served and served_files(directory) == files
        killed = dump_folders(directory) - {first, second}
        assert len(killed) == 2, killed

        relabel(data_copy, "Dax, built after the kills")
        done = run_build(Site(tmp_path, data_copy, directory, server), "--skip-validation")
        assert done.returncode == 0, done.stderr
        third = os.readlink(root / "dumps")
        assert os.readlink(root / "previous-dumps") == second
        assert dump_folders(directory) == {second, third}
        assert leftovers(directory) == []
        assert ask_server(server).label == "Dax, built after the kills"
    finally:
        stop_server(server)


# rebuilding the data in service


def store_files(store: Path) -> dict[str, tuple[int, int, int]]:
    """Inode, mtime and size of each file of a store: any removal or rewrite changes them."""
    try:
        stats = {p.name: p.stat() for p in store.iterdir()}
    except FileNotFoundError:  # a file (or the store) removed while listed
        return {}
    return {name: (s.st_ino, s.st_mtime_ns, s.st_size) for name, s in stats.items()}


def test_rebuilding_the_same_data_never_touches_the_served_store(tmp_path: Path, data_copy: Path):
    """The same records give the version in service: a rebuild reuses its store instead of
    removing it and renaming a new one in (a kill between the two left CURRENT naming a store
    with files missing). Watched throughout a rebuild, then killed ones at random points."""
    directory = BuildDirectory(tmp_path / "build")
    build(data_copy, directory, validate=False)
    version = directory.current_version()
    assert version is not None
    served = directory.stores / version
    before = store_files(served)
    held, _ = directory.open_current()  # as a server's worker holds it
    rebuild = ("build", "--data", data_copy, "--build-dir", directory.root, "--skip-validation")

    process = santecyber(*rebuild)
    started = time.monotonic()
    assert not kill_when(process, lambda: store_files(served) != before), "store was touched"
    duration = time.monotonic() - started
    assert process.returncode == 0, process.stderr
    assert directory.current_version() == version and store_files(served) == before
    assert store_label(directory) == next(iter(held.query(LABEL_QUERY)))["label"].value

    rng = random.Random(11)
    for _ in range(4):
        process = santecyber(*rebuild)
        time.sleep(rng.uniform(0.1, 1.0) * duration)
        process.kill()
        process.communicate(timeout=60)
        assert directory.current_version() == version and store_files(served) == before
        query = run_cli("query", "02-attacks-overview", "--build-dir", directory.root)
        assert query.returncode == 0 and "Traceback" not in query.stderr, query.stderr
