"""`make wheel`'s product installs and imports in a clean venv with no Rust toolchain."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_release_wheel_installs_without_rust(tmp_path: Path) -> None:
    maturin = Path(sys.executable).parent / "maturin"
    if not maturin.exists():
        pytest.fail("maturin is a dev dependency and must be installed in the venv")
    dist = tmp_path / "dist"
    subprocess.run(
        [str(maturin), "build", "--release", "--quiet", "--out", str(dist)],
        cwd=ROOT,
        check=True,
    )
    wheels = list(dist.glob("funai-*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]
    # abi3: one wheel for every CPython >= 3.11
    assert "-cp311-abi3-" in wheel.name, wheel.name
    assert "manylinux" in wheel.name or "linux" in wheel.name

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # No cargo/rustc on PATH: the wheel must carry the compiled extension.
    clean_path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if not (Path(p) / "cargo").exists()
    )
    env = {**os.environ, "PATH": clean_path}
    env.pop("VIRTUAL_ENV", None)
    assert shutil.which("cargo", path=clean_path) is None
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        env=env,
    )
    probe = (
        "import funai._core as c, pathlib; "
        "assert c.sha256d(b'').hex().startswith('5df6e0e2'); "
        "assert pathlib.Path(c.__file__).name.endswith('.abi3.so'); "
        "assert (pathlib.Path(c.__file__).parent / '_core.pyi').exists(); "
        "assert (pathlib.Path(c.__file__).parent / 'py.typed').exists(); "
        "assert (pathlib.Path(c.__file__).parent / 'clarity' / 'contracts' "
        "/ 'fai-l1-proofs.clar').exists(); "
        "print(c.__file__)"
    )
    out = subprocess.run(
        [str(python), "-c", probe],
        check=True,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert str(env_dir) in out.stdout
