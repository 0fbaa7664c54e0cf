"""scripts/validate-deploy.sh accepts the real deployment files and rejects broken copies; the deployment files
agree with the code (topics, ports) and with each other (ACLs, topic-init).

The script installs its own tools (docker-compose, check-jsonschema, kubernetes-validate, helm), so the first
run may take minutes while `go install` builds helm; later runs take seconds.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from microcred.kafka.topics import ALL_TOPICS, DEAD_LETTER

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "validate-deploy.sh"
COMPOSE = ROOT / "docker-compose.yml"
CHART = ROOT / "deploy" / "k8s" / "microcred"
STRIMZI = ROOT / "deploy" / "k8s" / "strimzi"
SERVICES = ("issuer", "revocation", "wallet", "verifier")


def run_script(*paths: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *map(str, paths)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for f in sorted(STRIMZI.glob("*.yaml")) for d in load_all(f) if d["kind"] == kind]


# ------------------------------------------------------------------------------------ the script itself


@pytest.mark.timeout(1200)
def test_real_deployment_files_pass() -> None:
    result = run_script()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 checks failed" in result.stdout
    for check in ("docker-compose", "check-jsonschema", "helm lint", "helm template", "kubernetes-validate",
                  "Strimzi subset schema"):
        assert check in result.stdout, f"{check} did not run:\n{result.stdout}"


def test_compose_with_unknown_key_fails(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE.read_text()
    assert "  redis:\n    image:" in text
    broken.write_text(text.replace("  redis:\n    image:", "  redis:\n    restart_polcy: always\n    image:", 1))
    result = run_script(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout and "docker-compose config" in result.stdout
    assert "check-jsonschema compose-spec" in result.stdout.split("FAIL", 1)[1]


def test_deployment_with_string_replicas_fails(tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: verifier}\nspec:\n  replicas: \"two\"\n"
        "  selector: {matchLabels: {app: verifier}}\n  template:\n    metadata: {labels: {app: verifier}}\n"
        "    spec:\n      containers: [{name: verifier, image: microcred:dev}]\n")
    result = run_script(manifest)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "replicas" in result.stdout


def test_valid_deployment_passes(tmp_path: Path) -> None:
    """The same manifest with an integer is accepted: the failure above is about the value, not the setup."""
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: verifier}\nspec:\n  replicas: 2\n"
        "  selector: {matchLabels: {app: verifier}}\n  template:\n    metadata: {labels: {app: verifier}}\n"
        "    spec:\n      containers: [{name: verifier, image: microcred:dev}]\n")
    result = run_script(manifest)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_api_version_fails(tmp_path: Path) -> None:
    """kubernetes-validate alone only warns on an unknown apiVersion; the script makes it an error."""
    manifest = tmp_path / "service.yaml"
    manifest.write_text("apiVersion: core/v9\nkind: Service\nmetadata: {name: verifier}\nspec: {}\n")
    result = run_script(manifest)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no Kubernetes" in result.stdout


def test_broken_strimzi_resources_fail(tmp_path: Path) -> None:
    copy = tmp_path / "strimzi"
    shutil.copytree(STRIMZI, copy)
    kafka = copy / "kafka.yaml"
    kafka.write_text(kafka.read_text().replace("type: internal", "type: internl", 1))
    topics = copy / "topics.yaml"
    topics.write_text(topics.read_text().replace("partitions: 6", "partitions: six", 1))
    result = run_script(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "internl" in result.stdout and "spec.partitions" in result.stdout


@pytest.mark.timeout(1200)
def test_chart_rendering_invalid_deployment_fails(tmp_path: Path) -> None:
    chart = tmp_path / "microcred"
    shutil.copytree(CHART, chart)
    (chart / "ci" / "broken-values.yaml").write_text(
        "services:\n  verifier:\n    replicas: two\n    hpa: {enabled: false}\n")
    result = run_script(chart)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "replicas" in result.stdout


# ------------------------------------------------------------------------------------ files agree with the code


def test_strimzi_topics_match_the_code() -> None:
    topics = {t["metadata"]["name"]: t["spec"] for t in by_kind("KafkaTopic")}
    assert {t.name: t.partitions for t in ALL_TOPICS} == {n: s["partitions"] for n, s in topics.items()}
    pool_replicas = min(p["spec"]["replicas"] for p in by_kind("KafkaNodePool"))
    declared = {t.name: t for t in ALL_TOPICS}
    for name, spec in topics.items():
        assert spec["replicas"] == 3 <= pool_replicas
        assert spec["config"]["min.insync.replicas"] == 2
        # Event logs are replayed in full to rebuild Redis: never compacted, never expired. Keyed-state topics
        # (full state per key) are compacted where the code declares it, and never expired either.
        assert spec["config"]["cleanup.policy"] == declared[name].config.get("cleanup.policy", "delete"), name
        if name != DEAD_LETTER.name:
            assert spec["config"]["retention.ms"] == -1, name


def test_strimzi_cluster_is_kraft_with_tls_clients() -> None:
    (kafka,) = by_kind("Kafka")
    assert kafka["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    listeners = {listener["name"]: listener for listener in kafka["spec"]["kafka"]["listeners"]}
    assert listeners["plain"]["port"] == 9092 and listeners["plain"]["tls"] is False
    assert listeners["tls"]["port"] == 9093 and listeners["tls"]["authentication"] == {"type": "tls"}
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["transaction.state.log.min.isr"] == 2
    (pool,) = by_kind("KafkaNodePool")
    assert pool["spec"]["roles"] == ["controller", "broker"] and pool["spec"]["replicas"] == 3
    assert pool["spec"]["storage"]["volumes"][0]["kraftMetadata"] == "shared"
    cluster = kafka["metadata"]["name"]
    for doc in by_kind("KafkaNodePool") + by_kind("KafkaTopic") + by_kind("KafkaUser"):
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == cluster


def test_every_service_has_a_kafka_user_with_acls_on_existing_topics() -> None:
    topics = {t["metadata"]["name"] for t in by_kind("KafkaTopic")}
    users = {u["metadata"]["name"]: u["spec"] for u in by_kind("KafkaUser")}
    assert set(users) == {f"microcred-{s}" for s in SERVICES}
    for name, spec in users.items():
        assert spec["authentication"] == {"type": "tls"}
        acls = spec["authorization"]["acls"]
        for acl in acls:
            if acl["resource"]["type"] == "topic":
                assert acl["resource"]["name"] in topics, acl
        groups = [a["resource"] for a in acls if a["resource"]["type"] == "group"]
        assert groups == [{"type": "group", "name": name, "patternType": "prefix"}]
        writes = {a["resource"]["name"] for a in acls if "Write" in a["operations"]}
        assert DEAD_LETTER.name in writes, f"{name} cannot dead-letter"
        # ConsumerRunner reads the dead-letter topic back so that a replay does not dead-letter a record twice.
        reads = {a["resource"]["name"] for a in acls if "Read" in a["operations"]}
        assert DEAD_LETTER.name in reads, f"{name} cannot check what it already dead-lettered"


def test_compose_topic_init_matches_the_code() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    script = compose["services"]["topic-init"]["command"][0]
    created = {m[0]: int(m[1]) for m in re.findall(r"--topic (\S+) --partitions (\d+)", script)}
    assert created == {t.name: t.partitions for t in ALL_TOPICS}


def test_compose_publishes_only_on_loopback_and_guards_the_kek() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    assert "name" not in compose  # docker-compose 1.29 rejects a top-level name
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    for name in ("issuer", "revocation"):
        assert compose["services"][name]["environment"]["MICROCRED_KEK"].startswith("${MICROCRED_KEK:?")
    for name in SERVICES:
        svc = compose["services"][name]
        assert svc["command"] == [f"services.{name}.main"]
        assert svc["healthcheck"]["test"][:3] == ["CMD", "python", "-c"]
        conditions = {dep: c["condition"] for dep, c in svc["depends_on"].items()}
        assert conditions["kafka"] == "service_healthy" and conditions["redis"] == "service_healthy"
        assert conditions["topic-init"] == "service_completed_successfully"


def test_chart_ports_match_compose() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    compose = yaml.safe_load(COMPOSE.read_text())
    for name in SERVICES:
        env = compose["services"][name]["environment"]
        svc = values["services"][name]
        assert svc.get("grpcPort") == env.get("MICROCRED_GRPC_PORT"), name
        assert svc.get("httpPort") == env.get("MICROCRED_HTTP_PORT"), name


def _required_settings(name: str) -> set[str]:
    """The environment variables a service refuses to start without (its settings without a default)."""
    settings = importlib.import_module(f"services.{name}.config").Settings
    prefix = settings.model_config.get("env_prefix", "")
    return {f"{prefix}{field}".upper() for field, info in settings.model_fields.items() if info.is_required()}


@pytest.mark.parametrize("name", SERVICES)
def test_every_required_setting_is_given_in_compose_and_in_the_chart(name: str) -> None:
    # The issuer's revocation target and did:web host were missing from both: its container could not start.
    required = _required_settings(name)
    assert required, name
    compose = yaml.safe_load(COMPOSE.read_text())
    given = set(compose["services"][name]["environment"])
    assert required <= given, f"compose: {name} lacks {sorted(required - given)}"
    templates = (CHART / "templates" / "deployment.yaml").read_text()
    configmap = (CHART / "templates" / "configmap.yaml").read_text()
    in_chart = {v for v in required if f"name: {v}\n" in templates or f"{v}:" in configmap}
    assert in_chart == required, f"chart: {name} lacks {sorted(required - in_chart)}"
