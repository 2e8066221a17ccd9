"""Profiles on disk: names that stay file names, recordings that stay inside the profile,
and one session per profile, held by a lock the kernel drops when its owner dies."""

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from game.profile_lock import LOCK_NAME, ProfileInUse, ProfileLock
from game.profiles import Profile, check_player_name, recordings_in
from game.recording import SUFFIX

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["..", ".", "a/b", "", "x" * 65, ".hidden", "-dash", "a b"])
def test_unsafe_player_names_are_refused_with_the_rule(name, tmp_path):
    with pytest.raises(ValueError) as error:
        check_player_name(name)
    message = str(error.value)
    assert "player name must be 1-64 letters, digits, '_', '-' or '.'" in message
    assert repr(name) in message
    with pytest.raises(ValueError):
        Profile(tmp_path, name).folder  # noqa: B018 (the property is what refuses)


@pytest.mark.parametrize("name", ["alice", "Bob_2.0-x", "7", "x" * 64, "a..b"])
def test_safe_player_names_are_kept(name, tmp_path):
    assert check_player_name(name) == name
    assert Profile(tmp_path, name).folder == tmp_path / "players" / name


def test_new_recording_path_lies_in_the_profile_recordings(tmp_path):
    profile = Profile(tmp_path, "alice")
    path = profile.new_recording_path(seed=0x12345ABCDEF)
    assert path.parent == tmp_path / "players" / "alice" / "recordings"
    assert path.parent == profile.recordings
    assert path.suffix == SUFFIX == ".mpr"
    assert path.name.endswith(f"-abcdef{SUFFIX}")  # the seed's low 24 bits, in hex


def test_recordings_are_listed_sorted_and_only_from_inside_the_folder(tmp_path):
    profile = Profile(tmp_path, "alice")
    folder = profile.recordings
    folder.mkdir(parents=True)
    for name in ["20260102-000000-000002.mpr", "20260101-000000-000001.mpr"]:
        (folder / name).write_bytes(b"match")
    (folder / "notes.txt").write_text("not a recording")
    (folder / "folder.mpr").mkdir()
    elsewhere = tmp_path / "players" / "mallory" / "recordings"
    elsewhere.mkdir(parents=True)
    (elsewhere / "theirs.mpr").write_bytes(b"someone else's match")
    (folder / "escape.mpr").symlink_to(elsewhere / "theirs.mpr")
    (folder / "up.mpr").symlink_to(Path("..") / ".." / "mallory" / "recordings" / "theirs.mpr")
    (folder / "dangling.mpr").symlink_to(folder / "gone.mpr")
    (folder / "loop.mpr").symlink_to(folder / "loop.mpr")

    expected = [
        (folder / "20260101-000000-000001.mpr").resolve(),
        (folder / "20260102-000000-000002.mpr").resolve(),
    ]
    assert profile.list_recordings() == expected
    assert recordings_in(folder) == expected


def test_recordings_of_a_profile_that_never_played_are_none(tmp_path):
    assert Profile(tmp_path, "newcomer").list_recordings() == []
    (tmp_path / "a-file.mpr").write_bytes(b"")
    assert recordings_in(tmp_path / "a-file.mpr") == []


# -- one session per profile ----------------------------------------------------------------

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from game.profile_lock import ProfileLock
    ProfileLock(Path(sys.argv[1]), "alice").acquire()
    print("locked", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def holder(tmp_path):
    """Another process holding alice's profile lock, killed at the end whatever happens."""
    folder = tmp_path / "players" / "alice"
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "locked"
        yield folder, process
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_a_second_session_from_another_process_is_refused_with_who_and_what_to_do(holder):
    folder, process = holder
    assert (folder / LOCK_NAME).read_text() == f"{process.pid}\n"
    with pytest.raises(ProfileInUse) as error:
        ProfileLock(folder, "alice").acquire()
    message = str(error.value)
    assert "'alice'" in message
    assert f"pid {process.pid}" in message
    assert "close that one first" in message and "--player" in message


def test_a_killed_owner_leaves_the_profile_free(holder, caplog):
    folder, process = holder
    process.send_signal(signal.SIGKILL)
    process.wait()
    with caplog.at_level(logging.INFO, logger="game.profile_lock"):
        lock = ProfileLock(folder, "alice").acquire()
    try:
        assert (folder / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        assert any(str(process.pid) in r.getMessage() for r in caplog.records)
    finally:
        lock.release()


def _try_lock_elsewhere(folder: Path) -> str:
    """Whether another process can take the lock now: 'taken' or 'in use'."""
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from game.profile_lock import ProfileInUse, ProfileLock
        try:
            ProfileLock(Path(sys.argv[1]), "alice").acquire().release()
            print("taken")
        except ProfileInUse:
            print("in use")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_lock_holds_the_owner_pid_and_release_frees_it(tmp_path, caplog):
    folder = tmp_path / "players" / "alice"
    lock = ProfileLock(folder, "alice").acquire()
    assert (folder / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    with pytest.raises(ProfileInUse, match=f"pid {os.getpid()}"):
        ProfileLock(folder, "alice").acquire()  # a second session in this process, too
    assert _try_lock_elsewhere(folder) == "in use"

    lock.release()
    assert (folder / LOCK_NAME).read_text() == ""  # left cleanly: no owner to report
    assert _try_lock_elsewhere(folder) == "taken"

    with caplog.at_level(logging.INFO, logger="game.profile_lock"):
        again = lock.acquire()
    assert again is lock
    assert (folder / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    assert not caplog.records  # a clean hand-over is not reported as a take-over
    lock.release()
    lock.release()  # releasing twice is harmless


def test_lock_as_a_context_manager(tmp_path):
    folder = tmp_path / "players" / "alice"
    with ProfileLock(folder, "alice"), pytest.raises(ProfileInUse):
        ProfileLock(folder, "alice").acquire()
    with ProfileLock(folder, "alice"):  # leaving the first block let the profile go
        pass


def test_a_link_to_a_recording_beside_it_lists_that_recording_once(tmp_path):
    from game.profiles import recordings_in

    folder = tmp_path / "recordings"
    folder.mkdir()
    (folder / "a.mpr").write_bytes(b"x")
    (folder / "b.mpr").symlink_to(folder / "a.mpr")
    assert recordings_in(folder) == [(folder / "a.mpr").resolve()]
