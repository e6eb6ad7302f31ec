"""The dependency rules of the layout: api -> matcher <- training, and a light core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {"api", "training", "fastapi", "sqlalchemy", "starlette", "uvicorn", "evals"}


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_matcher_never_imports_the_layers_above_it_or_dask_at_module_level():
    for path in (ROOT / "matcher").rglob("*.py"):
        bad = _module_level_imports(path) & (FORBIDDEN_IN_CORE | {"dask", "distributed"})
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_import_matcher_works_without_fastapi_or_dask():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'fastapi', 'dask', 'distributed', 'sqlalchemy'}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import matcher, matcher.cli\n"
        "print(matcher.__version__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_nothing_reads_the_shared_folder_at_run_time():
    for folder in ("matcher", "api", "training"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text("utf-8")
            assert "../shared" not in text and "shared/data" not in text, path
