"""The layout holds: a pure domain, use cases over ports, handlers that never load the local adapters or the CLI."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

PACKAGE = REPO / "layers" / "wirewatch" / "wirewatch"
DOMAIN = ["classify", "stories", "digest", "models.py", "policy.py", "paging.py", "runlog.py", "errors.py"]
FUNCTIONS = sorted(p.parent.name for p in (REPO / "functions").glob("*/app.py"))


def _imports(path: Path) -> set[str]:
    """Every module a file imports directly (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _files(*parts: str) -> list[Path]:
    found: list[Path] = []
    for part in parts:
        path = PACKAGE / part
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


@pytest.mark.parametrize("path", _files(*DOMAIN), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_domain_imports_no_aws_no_http_and_no_os(path: Path) -> None:
    forbidden = {n for n in _imports(path) if n.split(".")[0] in ("boto3", "botocore", "httpx", "os", "sqlite3")}
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", _files("usecases"), ids=lambda p: p.name)
def test_use_cases_import_no_adapter(path: Path) -> None:
    adapters = {
        n for n in _imports(path) if n.startswith("wirewatch.adapters") or n.split(".")[0] in ("boto3", "botocore")
    }
    assert not adapters, f"{path.name} imports {sorted(adapters)}"


@pytest.mark.parametrize("path", _files("adapters/aws"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_aws_adapters_never_import_local_ones(path: Path) -> None:
    assert not {n for n in _imports(path) if n.startswith("wirewatch.adapters.local")}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_handler_loads_neither_the_local_adapters_nor_the_cli_nor_moto(function: str) -> None:
    probe = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(REPO / 'functions' / function / 'app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIREWATCH_"))}
    env |= {"WIREWATCH_TABLE": "t", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "wirewatch"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    unwanted = [m for m in loaded if m.startswith(("wirewatch.adapters.local", "wirewatch.cli", "moto", "sqlite3"))]
    assert unwanted == []


@pytest.mark.parametrize("path", _files("api"), ids=lambda p: p.name)
def test_api_routes_reach_adapters_only_through_the_runtime(path: Path) -> None:
    adapters = {n for n in _imports(path) if n.startswith("wirewatch.adapters") or n.split(".")[0] == "boto3"}
    assert not adapters, f"{path.name} imports {sorted(adapters)}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_handler_imports_no_cli_no_api_internals_and_no_local_adapter(function: str) -> None:
    imported = _imports(REPO / "functions" / function / "app.py")
    allowed_api = {"wirewatch.api.routes"} if function == "api" else set()
    unwanted = {
        n
        for n in imported
        if n.startswith(("wirewatch.cli", "wirewatch.adapters.local", "wirewatch.api")) and n not in allowed_api
    }
    assert not unwanted, f"functions/{function}/app.py imports {sorted(unwanted)}"


def _test_files() -> list[Path]:
    return sorted((REPO / "tests").rglob("test_*.py"))


@pytest.mark.parametrize("path", _test_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_test_imports_the_bench(path: Path) -> None:
    assert not {n for n in _imports(path) if n.split(".")[0] == "bench"}, "timings and their helpers live in bench/"


_UNIT_TESTS = sorted(p for p in (REPO / "tests" / "unit").rglob("test_*.py") if p != Path(__file__))


@pytest.mark.parametrize("path", _UNIT_TESTS, ids=lambda p: p.name)
def test_no_unit_test_times_itself(path: Path) -> None:
    # A wall-clock bound fails on a slow CI machine and proves nothing on a fast one: bench/ measures.
    text = path.read_text("utf-8")
    assert "perf_counter()" not in text and "time.time()" not in text, f"{path.name} reads a wall clock"
