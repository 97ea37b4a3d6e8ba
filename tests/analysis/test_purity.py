"""analysis/ is pure: importing all of it loads no Slack, Google, scheduler or database code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ANALYSIS = Path(__file__).resolve().parents[2] / "analysis"
EDGES = ("slack_bolt", "slack_sdk", "gspread", "google", "apscheduler", "sqlalchemy", "psycopg", "requests", "bot")


def test_importing_every_analysis_module_loads_no_edge_library():
    script = (
        "import importlib, json, pkgutil, sys, analysis\n"
        "for m in pkgutil.walk_packages(analysis.__path__, 'analysis.'): importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ANALYSIS.parent
        ).stdout
    )
    leaked = [name for name in loaded if name.split(".")[0] in EDGES]
    assert leaked == []


def test_analysis_reads_no_clock_or_environment():
    forbidden = {
        ("os", "environ"),
        ("os", "getenv"),
        ("datetime", "now"),
        ("date", "today"),
        ("time", "time"),
        ("datetime", "utcnow"),
    }
    found = []
    for path in ANALYSIS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
                owner = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
                if (owner, node.attr) in forbidden:
                    found.append(f"{path.name}:{node.lineno} {owner}.{node.attr}")
    assert found == []


def test_fishers_test_loads_no_scipy_stats():
    """scipy.stats takes longer to import than the rest of the analysis; Fisher's test is written without it."""
    script = (
        "import sys\n"
        "from analysis.stats.proportions import compare_proportions\n"
        "result = compare_proportions([4], [1], [4], [3])\n"
        "assert result.used_fisher[0]\n"
        "print('scipy.stats' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ANALYSIS.parent
    )
    assert done.stdout.strip() == "False"
