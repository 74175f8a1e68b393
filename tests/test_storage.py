"""The file guards every command shares: output paths, atomic and exclusive writes, the run lock."""

import json
import os

import pytest

from ckgan.errors import CkganError
from ckgan.storage import (
    LOCK_FILE,
    atomic_path,
    atomic_write_text,
    cache_dir,
    check_output,
    clean_temp_files,
    enclosing_run,
    run_lock,
)


@pytest.fixture
def run_folder(tmp_path):
    run = tmp_path / "run"
    (run / "labels").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"ckgan_version": "0", "labels": "tabular"}))
    (run / "labels" / "tables.h5").write_bytes(b"model")
    return run


def test_check_output_refuses_the_runs_files_even_with_force(run_folder):
    for target in ("labels/tables.h5", "config.json", "image/image_stage.h5", "report.html"):
        with pytest.raises(CkganError, match="is one of the files of the run"):
            check_output(run_folder / target, force=True)
    assert check_output(run_folder / "mine.csv") == run_folder / "mine.csv"
    assert enclosing_run(run_folder / "labels" / "deep" / "x.h5") == run_folder


def test_a_folder_with_a_foreign_config_is_no_run(tmp_path):
    (tmp_path / "config.json").write_text('{"theirs": true}')
    assert enclosing_run(tmp_path / "x.csv") is None
    (tmp_path / "config.json").write_text("{not json")  # a damaged run stays a run
    assert enclosing_run(tmp_path / "x.csv") == tmp_path


def test_check_output_existing_files_folders_and_suffixes(tmp_path):
    existing = tmp_path / "a.png"
    existing.write_bytes(b"x")
    with pytest.raises(CkganError, match="exists: choose another name, or --force"):
        check_output(existing)
    assert check_output(existing, force=True) == existing
    with pytest.raises(CkganError, match="is a folder: name a file inside it"):
        check_output(tmp_path)
    with pytest.raises(CkganError, match=r"must end in \.png or \.jpg"):
        check_output(tmp_path / "grid.txt", suffixes=(".png", ".jpg"))
    assert check_output(tmp_path / "GRID.PNG", suffixes=(".png",)).name == "GRID.PNG"


def test_an_exclusive_write_never_replaces_a_file_created_meanwhile(tmp_path):
    path = tmp_path / "out.csv"
    with pytest.raises(CkganError, match="appeared while it was being written"):
        with atomic_path(path, exclusive=True) as tmp:
            tmp.write_text("mine")
            path.write_text("theirs")  # another process got there first
    assert path.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left
    with atomic_path(tmp_path / "new.csv", exclusive=True) as tmp:
        tmp.write_text("mine")
    assert (tmp_path / "new.csv").read_text() == "mine"


def test_unwritable_places_are_clear_errors(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CkganError, match=r"cannot create folder .*/file/sub' \(Not a directory\)"):
        atomic_write_text(blocker / "sub" / "x.txt", "y")
    with pytest.raises(CkganError, match="a file of that name is in the way"):
        run_lock(blocker).__enter__()
    monkeypatch.setenv("CKGAN_CACHE", str(blocker))
    with pytest.raises(CkganError, match="set CKGAN_CACHE to a writable folder"):
        cache_dir("judges")
    with pytest.raises(CkganError, match="cannot write '/proc/"):
        atomic_write_text("/proc/ckgan-test.txt", "y")


def test_clean_temp_files_removes_only_temporaries(tmp_path):
    (tmp_path / "samples").mkdir()
    tmp = tmp_path / "samples" / ".step0000010.png.abc123.tmp"
    tmp.write_bytes(b"")
    keep = tmp_path / "samples" / "step0000010.png"
    keep.write_bytes(b"png")
    keras = tmp_path / "labels" / ".critic.weights.h5.x1y2.tmp.weights.h5"
    keras.parent.mkdir()
    keras.write_bytes(b"")
    assert sorted(clean_temp_files(tmp_path)) == sorted([tmp, keras])
    assert keep.exists() and not tmp.exists()


def test_run_lock_is_exclusive_and_names_the_holder(tmp_path):
    with run_lock(tmp_path / "run"):
        holder = f"in use by another ckgan process \\(pid {os.getpid()}\\)"
        with pytest.raises(CkganError, match=holder):
            with run_lock(tmp_path / "run"):
                pass
    with run_lock(tmp_path / "run"):  # released on exit
        pass


def test_run_lock_waits_for_a_holder_that_has_not_written_its_pid_yet(tmp_path):
    # The holder takes the lock, then writes its pid: a second process that
    # comes in between must still name it (CI saw "pid unknown" under load).
    import fcntl
    import threading

    folder = tmp_path / "run"
    folder.mkdir()
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        late = threading.Timer(0.3, lambda: os.pwrite(fd, b"4242\n", 0))
        late.start()
        with pytest.raises(CkganError, match=r"\(pid 4242\)"):
            with run_lock(folder):
                pass
        late.join()
    finally:
        os.close(fd)


def test_datasets_have_stable_cache_keys(tmp_path):
    import time

    from ckgan_plugins.synthfaces.synth_faces import SynthFaces

    from ckgan.userdata import open_user_data

    assert SynthFaces(n=300, seed=1).cache_key == "SynthFaces(n=300, seed=1)"
    assert SynthFaces(n=300, seed=2).cache_key != SynthFaces(n=300, seed=1).cache_key
    csv = tmp_path / "labels.csv"
    csv.write_text("A,B\n0,1\n1,0\n")
    first = open_user_data(csv).cache_key
    assert first == open_user_data(csv).cache_key and first.startswith("user-labels-")
    time.sleep(0.01)
    csv.write_text("A,B\n1,1\n1,0\n")
    assert open_user_data(csv).cache_key != first
