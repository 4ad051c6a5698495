import json
import subprocess
import sys

FORBIDDEN = ["flask", "sqlalchemy", "sqlmodel", "wtforms", "moraspar"]


def test_matching_imports_no_web_or_database_code():
    code = (
        "import json, sys, matching; "
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_public_api_is_exported():
    import matching

    for name in ["Posting", "Match", "Assignment", "rank", "allocate", "Reason"]:
        assert name in matching.__all__
        assert hasattr(matching, name)
