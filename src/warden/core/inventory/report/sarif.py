"""SARIF 2.1.0 for the findings, so code scanning shows them on the files that grant the authority."""

from __future__ import annotations

from typing import Any

from warden.core.inventory.model import Inventory

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}


def sarif(inv: Inventory) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in inv.to_json()["findings"]:
        rules.setdefault(f["rule"], {
            "id": f["rule"], "name": f["rule"].title().replace("-", ""),
            "shortDescription": {"text": f["title"][:200]},
            "helpUri": "https://github.com/warden/warden/blob/main/docs/inventory.md#findings",
            "properties": {"security-severity": SCORE[f["severity"]], "tags": ["security", "agent-action-bom"]},
        })
        where = f["where"] or {"path": ".", "line": 0}
        region = {"startLine": where["line"]} if where["line"] else {}
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": where["path"] or ".",
                                                                              "uriBaseId": f["repo"]}}}
        if region:
            location["physicalLocation"]["region"] = region
        results.append({"ruleId": f["rule"], "level": LEVEL[f["severity"]], "message": {"text": f"{f['title']}. {f['message']}"},
                        "locations": [location], "partialFingerprints": {"wardenInventory/v1": f["fingerprint"]},
                        "properties": {"severity": f["severity"], "repo": f["repo"], "edges": f["edges"]}})
    bases = {r["name"]: {"uri": "file://" + r["root"].rstrip("/") + "/"} for r in inv.repos if r["root"].startswith("/")}
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "warden-inventory", "informationUri": "https://github.com/warden/warden",
                                      "version": str(inv.meta.get("generator", "warden")).split(" ")[-1],
                                      "rules": list(rules.values())}},
                  "originalUriBaseIds": bases, "results": results}],
    }
