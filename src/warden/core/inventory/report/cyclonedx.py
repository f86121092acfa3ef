"""CycloneDX 1.6: agents, workflows, tools and targets as services whose data flows are the action
paths; credentials as cryptographic-asset components; findings as vulnerabilities on the services."""

from __future__ import annotations

import hashlib
from typing import Any

from warden.core.inventory.model import Inventory
from warden.core.inventory.report.common import name

SERVICE_KINDS = ("agent", "workflow", "tool", "target", "actor", "instructions", "policy")


def _uuid(inv: Inventory) -> str:
    h = hashlib.sha256("|".join(sorted(inv.edges)).encode() + str(inv.meta.get("generated_at")).encode()).hexdigest()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def _props(pairs: dict[str, Any]) -> list[dict[str, str]]:
    return [{"name": f"warden:{k}", "value": str(v)} for k, v in pairs.items() if v not in (None, "", [], {})]


def ref(node_id: str) -> str:
    """Short bom-refs: data flows name their ends by IRI, and the schema's IRI check costs time per character."""
    return "n-" + hashlib.sha256(node_id.encode()).hexdigest()[:10]


def cyclonedx(inv: Inventory) -> dict[str, Any]:
    serial = _uuid(inv)

    def link(node_id: str) -> str:  # a BOM-Link points into this BOM
        return f"urn:cdx:{serial[len('urn:uuid:'):]}/1#{ref(node_id)}"

    flows: dict[str, list[dict[str, Any]]] = {}
    for e in inv.edges.values():
        cred = inv.nodes.get(e.credential)
        desc = (f"{name(inv, e.source)} can {e.action} {name(inv, e.target)}"
                + (f" using {cred.name} ({e.authority})" if cred else "") + f"; classification {e.classification}"
                + (f"; Warden would {e.verdict['decision']}" if e.verdict else "") + (f"; owner {e.owner}" if e.owner else ""))
        flow: dict[str, Any] = {"flow": "outbound", "classification": e.action, "name": e.id, "description": desc,
                                "destination": [link(e.target)]}
        if e.owner:
            flow["governance"] = {"owners": [{"contact": {"name": o}} for o in e.owner.split()]}
        flows.setdefault(e.source, []).append(flow)
    services = []
    for n in sorted(inv.nodes.values(), key=lambda n: n.id):
        if n.kind not in SERVICE_KINDS:
            continue
        d = n.detail
        svc: dict[str, Any] = {"bom-ref": ref(n.id), "name": n.name, "group": n.repo, "description": f"{n.kind} in {n.repo}"}
        if d.get("url"):
            svc["endpoints"] = [d["url"]]
        if n.kind == "tool" and d.get("type") == "mcp-server":
            svc["authenticated"] = d.get("auth") != "none"
            svc["x-trust-boundary"] = not d.get("behind_warden_proxy")
        if n.kind == "target" and n.id.startswith(("target:registry", "target:cloud", "target:host", "target:network")):
            svc["x-trust-boundary"] = True
        if n.id in flows:
            svc["data"] = flows[n.id]
        props = _props({"id": n.id, "kind": n.kind, "where": str(n.where) if n.where else "",
                        **{k: v for k, v in d.items() if isinstance(v, (str, int, bool)) and k not in ("url",)}})
        for e in inv.edges_from(n.id):
            props.append({"name": f"warden:path:{e.id}", "value": f"{e.action} -> {e.target} [{e.classification}]"})
        if props:
            svc["properties"] = props
        services.append(svc)
    components = []
    for n in sorted(inv.nodes.values(), key=lambda n: n.id):
        if n.kind != "credential":
            continue
        components.append({"type": "cryptographic-asset", "bom-ref": ref(n.id), "name": n.name, "group": n.repo,
                           "description": n.detail.get("source", ""),
                           "cryptoProperties": {"assetType": "related-crypto-material",
                                                "relatedCryptoMaterialProperties": {"type": "token" if "token" in n.name.lower() else "secret-key"}},
                           "properties": _props({"id": n.id, "authority": n.detail.get("authority")})})
    deps: dict[str, set[str]] = {}
    for e in inv.edges.values():
        deps.setdefault(e.source, set()).add(e.target)
        if e.credential:
            deps[e.source].add(e.credential)
    refs = {n.id for n in inv.nodes.values()}
    vulns = []
    for f in inv.to_json()["findings"]:
        affected = sorted({inv.edges[x].source for x in f["edges"] if x in inv.edges} & refs)
        v: dict[str, Any] = {"bom-ref": f"finding:{f['fingerprint']}", "id": f["rule"],
                             "source": {"name": "warden inventory"},
                             "ratings": [{"severity": f["severity"] if f["severity"] != "info" else "info", "method": "other"}],
                             "description": f["title"], "detail": f["message"],
                             "properties": _props({"repo": f["repo"], "where": (f["where"] or {}).get("path", "")})}
        if affected:
            v["affects"] = [{"ref": ref(a)} for a in affected]
        vulns.append(v)
    from_meta = str(inv.meta.get("generator", "warden")).split(" ")
    bom: dict[str, Any] = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": serial, "version": 1,
        "metadata": {"timestamp": inv.meta.get("generated_at") or "1970-01-01T00:00:00Z",
                     "tools": {"components": [{"type": "application", "name": "warden",
                                               "version": from_meta[-1] if len(from_meta) > 1 else "0"}]},
                     "component": {"type": "application", "bom-ref": "agent-action-bom", "name": "agent-action-bom",
                                   "description": "Where AI agents can act, classified under the active Warden policy"},
                     "properties": _props({f"repo:{r['name']}": r["root"] for r in inv.repos})},
        "services": services,
        "components": components,
        "dependencies": [{"ref": ref(s), "dependsOn": sorted(ref(x) for x in t & refs)} for s, t in sorted(deps.items()) if s in refs],
    }
    if vulns:
        bom["vulnerabilities"] = vulns
    return bom
