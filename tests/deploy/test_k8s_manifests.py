"""The Kubernetes manifests (deploy/k8s): every object valid against the Kubernetes
OpenAPI schema (kubernetes-validate, which bundles it), and the topology's invariants:
resources and probes on every container, secrets only by reference, settings the app
really reads (parsed by the app's own Settings), one FARO_RASA_URLS per Rasa pod."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SETTINGS_SOURCE = (ROOT / "bot" / "settings.py").read_text()
# the oldest Kubernetes the manifests target (autoscaling/v2, policy/v1 PDBs) and a new one
K8S_VERSIONS = ("1.27.0", "1.37.0")
SECRET_NAME = "faro-secrets"
SECRETISH = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|_KEY\b|CREDENTIAL", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")

Obj = dict[str, Any]


def kustomization() -> Obj:
    return dict(yaml.safe_load((K8S / "kustomization.yaml").read_text()))


def objects() -> list[Obj]:
    found: list[Obj] = []
    for name in kustomization()["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc is not None:
                found.append(doc)
    return found


def by_kind(kind: str) -> list[Obj]:
    return [o for o in objects() if o["kind"] == kind]


def one(kind: str, name: str) -> Obj:
    matches = [o for o in by_kind(kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def pod_specs() -> Iterator[tuple[Obj, Obj]]:
    """(workload, pod spec) of every object that runs pods."""
    for obj in objects():
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield obj, obj["spec"]["template"]["spec"]


def config_map(name: str) -> dict[str, str]:
    return dict(one("ConfigMap", name)["data"])


def container_env(container: Obj) -> dict[str, Obj]:
    """Every variable a container gets: its env entries and its ConfigMaps' keys."""
    env: dict[str, Obj] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, "envFrom only from ConfigMaps (secrets by key)"
        for key, value in config_map(source["configMapRef"]["name"]).items():
            env[key] = {"name": key, "value": value}
    for entry in container.get("env", []):
        env[entry["name"]] = entry
    return env


def test_kustomization_lists_every_manifest_and_pins_the_images() -> None:
    listed = set(kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    tags = {i["name"]: i["newTag"] for i in kustomization()["images"]}
    for _, spec in pod_specs():
        for container in spec["containers"]:
            assert container["image"] in tags, container["image"]
            assert tags[container["image"]] not in ("", "latest")


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schema(version: str) -> None:
    objs = objects()
    assert {o["kind"] for o in objs} >= {
        "Deployment", "StatefulSet", "Service", "Job", "HorizontalPodAutoscaler", "ConfigMap",
    }  # fmt: skip
    for obj in objs:
        # strict: unknown fields are errors too (a misspelt key would be silently ignored)
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_validator_rejects_a_broken_object() -> None:
    """The check above can fail: a misspelt field and a wrong type are caught."""
    deployment = one("Deployment", "faro-app")
    misspelt = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, K8S_VERSIONS[0], strict=True)
    wrong_type = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, K8S_VERSIONS[0], strict=True)


def test_every_container_has_requests_limits_and_runs_unprivileged() -> None:
    for workload, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            where = f"{workload['metadata']['name']}/{container['name']}"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), where
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], where


def test_every_long_running_container_has_liveness_readiness_and_startup_probes() -> None:
    for workload, spec in pod_specs():
        if workload["kind"] == "Job":
            continue
        for container in spec["containers"]:
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                get = container[probe]["httpGet"]
                assert get["port"] in ports, f"{probe} on an undeclared port"
    app = one("Deployment", "faro-app")["spec"]["template"]["spec"]["containers"][0]
    # liveness and readiness of the app answer from the process alone (tests/deploy/test_probes)
    assert app["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert app["readinessProbe"]["httpGet"]["path"] == "/readyz"
    rasa = one("StatefulSet", "faro-rasa")["spec"]["template"]["spec"]["containers"][0]
    assert rasa["readinessProbe"]["httpGet"]["path"] == "/"  # Rasa's "Hello from Rasa"


def test_secrets_come_only_from_secret_objects_by_reference() -> None:
    assert by_kind("Secret") == [], "no Secret is shipped: the operator creates faro-secrets"
    referenced: set[str] = set()
    for _workload, spec in pod_specs():
        for container in spec["containers"]:
            for name, entry in container_env(container).items():
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None:
                    assert ref["name"] == SECRET_NAME
                    referenced.add(ref["key"])
                    continue
                value = str(entry.get("value", ""))
                assert not SECRETISH.search(name), f"{name} must come from {SECRET_NAME}"
                assert not URL_WITH_PASSWORD.search(value), f"{name} holds a password"
    for obj in by_kind("ConfigMap"):
        for key, value in obj["data"].items():
            assert not SECRETISH.search(key), key
            assert not URL_WITH_PASSWORD.search(value), key
    # docs/deploy.md shows how to create every key the manifests read
    docs = (ROOT / "docs" / "deploy.md").read_text()
    for key in referenced:
        assert f"--from-literal={key}=" in docs or f"--from-file={key}=" in docs, key


def test_the_app_reads_every_setting_it_is_given_and_they_parse() -> None:
    container = one("Deployment", "faro-app")["spec"]["template"]["spec"]["containers"][0]
    env = container_env(container)
    faro_names = [n for n in env if n.startswith("FARO_")]
    assert faro_names
    for name in faro_names:
        assert f'"{name}"' in SETTINGS_SOURCE, f"{name} is not a setting of bot/settings.py"
    # the app's own parser accepts the values (secrets stand in as placeholders)
    values = {n: e["value"] if "value" in e else "placeholder-" + n.lower() for n, e in env.items()}
    values["FARO_DATABASE_URL"] = "postgresql+psycopg://faro@postgresql:5432/faro"
    values["FARO_RASA_TRACKER_URL"] = "postgresql+psycopg://rasa@postgresql:5432/rasa"
    settings = Settings.from_env({**values, "FARO_PROJECT_DIR": str(ROOT)})
    assert settings.server.host == "0.0.0.0"
    assert settings.database.shared  # PostgreSQL: every replica shares the secrets given


def test_the_rasa_urls_name_each_statefulset_pod_through_the_headless_service() -> None:
    rasa = one("StatefulSet", "faro-rasa")
    service = one("Service", rasa["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    pod_labels = rasa["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    port = service["spec"]["ports"][0]["port"]
    name, svc = rasa["metadata"]["name"], service["metadata"]["name"]
    expected = tuple(f"http://{name}-{i}.{svc}:{port}" for i in range(rasa["spec"]["replicas"]))
    urls = Settings.from_env(
        {"FARO_RASA_URLS": config_map("faro-app-config")["FARO_RASA_URLS"]}, secrets=False
    ).rasa.urls
    assert urls == expected


def test_rasa_gets_exactly_the_variables_its_endpoints_file_reads() -> None:
    container = one("StatefulSet", "faro-rasa")["spec"]["template"]["spec"]["containers"][0]
    env = container_env(container)
    endpoints = (ROOT / "deploy" / "endpoints.scale-out.yml").read_text()
    wanted = set(re.findall(r"\$\{(\w+)\}", endpoints))
    assert wanted <= set(env), wanted - set(env)
    assert {n for n in env if n.startswith("FARO_")} <= wanted
    action_url = env["FARO_ACTION_URL"]["value"]
    app_service = one("Service", "faro-app")
    assert action_url == (
        f"http://{app_service['metadata']['name']}:{app_service['spec']['ports'][0]['port']}"
        "/webhook"
    )


def test_services_select_their_pods_and_the_hpa_scales_the_app_on_cpu() -> None:
    app = one("Deployment", "faro-app")
    service = one("Service", "faro-app")
    assert (
        service["spec"]["selector"].items() <= app["spec"]["template"]["metadata"]["labels"].items()
    )
    hpa = one("HorizontalPodAutoscaler", "faro-app")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "faro-app",
    }  # fmt: skip
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= 2


def test_the_migration_job_runs_a_real_faro_command() -> None:
    job = one("Job", "faro-db-upgrade")
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == ["faro", "db", "upgrade"]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args[1:], "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Bring the schema" in result.stdout
