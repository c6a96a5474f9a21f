"""Runs the independent FHIR R4 validator (tools/fhir-validate, Node: the R4 JSON schema and every
R4 invariant through fhirpath.js) on a document. `make test-services` installs it; the embedded
run skips where it is not installed, the services run fails instead."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "fhir-validate"
REQUIRED = os.environ.get("MEDPLATFORM_REQUIRE_SERVICES") == "1"


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (make test-services installs it)"
    if not (TOOL / "node_modules" / "fhirpath").is_dir():
        return f"the validator's packages are not installed: run `npm install` in {TOOL}"
    return None


def r4_validate(document: dict) -> dict:
    """{"errors": [...], "warnings": [...], "checks": n} from the validator."""
    missing = _missing()
    if missing:
        if REQUIRED:
            pytest.fail(f"The FHIR R4 validator must run on the services run: {missing}")
        pytest.skip(f"FHIR R4 validator unavailable on this embedded run: {missing}")
    result = subprocess.run(  # noqa: S603 - a fixed script of the repository, no shell
        [shutil.which("node"), str(TOOL / "validate.js")],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)
