"""CycloneDX output, validated against the 1.6 schema with cyclonedx-python-lib before it is written:
an invalid BOM is an error the user sees, never a file a pipeline silently ingests."""

from __future__ import annotations

import json

from warden.core.inventory.model import Inventory
from warden.core.inventory.report.cyclonedx import cyclonedx


class BomError(Exception):
    pass


def validate(text: str) -> None:
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError as exc:  # the dependency is declared; a broken install must not skip validation quietly
        raise BomError(f"cannot validate the BOM: {exc}; reinstall warden (it needs cyclonedx-python-lib[json-validation])") from None
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise BomError(f"the generated CycloneDX document does not validate against 1.6: {error}")


def cyclonedx_json(inv: Inventory) -> str:
    text = json.dumps(cyclonedx(inv), indent=2, ensure_ascii=False)
    validate(text)
    return text
