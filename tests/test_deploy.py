"""The Kubernetes example, checked offline: its pods run commands ``tuner`` accepts and find each other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tuner.cli.parser import build_parser
from tuner.parallel.cluster import ORACLE_IP, ORACLE_PORT, TUNER_ID, Address, check_tuner_id, chief_from_environment
from tuner.space.loading import load_spec

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    """Every manifest by ``Kind/name``."""
    found = {}
    for path in sorted(DEPLOY.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                found[f"{document['kind']}/{document['metadata']['name']}"] = document
    return found


def container(pod_spec: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod_spec["containers"]
    return only


def mounted_claims(pod_spec: dict[str, Any]) -> dict[str, str]:
    """Mount path -> claim name, for the persistent volumes a pod mounts."""
    claims = {
        volume["name"]: volume["persistentVolumeClaim"]["claimName"]
        for volume in pod_spec["volumes"]
        if "persistentVolumeClaim" in volume
    }
    return {
        mount["mountPath"]: claims[mount["name"]]
        for mount in container(pod_spec)["volumeMounts"]
        if mount["name"] in claims
    }


def expand(value: str, environ: dict[str, str]) -> str:
    """Kubernetes' ``$(NAME)`` expansion of earlier variables."""
    return re.sub(r"\$\((\w+)\)", lambda match: environ[match.group(1)], value)


def test_chief_listens_where_its_service_sends_workers(objects):
    pod = objects["Pod/tuner-chief"]
    service = objects["Service/tuner-chief"]
    chief = container(pod["spec"])
    args = build_parser().parse_args(chief["args"])
    assert args.command == "chief" and args.host == "0.0.0.0"
    (port,) = chief["ports"]
    assert port["containerPort"] == args.port
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] in (port["name"], port["containerPort"])
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["type"] == "ClusterIP", "the oracle's gRPC channel is unauthenticated"


def test_workers_reach_the_chief_through_keras_tuners_variables(objects):
    job = objects["Job/tuner-workers"]
    service = objects["Service/tuner-chief"]
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] >= 2
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] == "OnFailure", "a restarted worker must keep its id to resume its trial"
    worker = container(pod_spec)
    args = build_parser().parse_args(worker["args"])
    assert args.command == "worker" and args.chief is None and args.id is None
    names = [item["name"] for item in worker["env"]]
    assert {TUNER_ID, ORACLE_IP, ORACLE_PORT} <= set(names)
    index = worker["env"][0]
    assert index["valueFrom"]["fieldRef"]["fieldPath"].endswith("['batch.kubernetes.io/job-completion-index']")
    for number in range(job["spec"]["completions"]):
        environ = {index["name"]: str(number)}
        for item in worker["env"][1:]:
            environ[item["name"]] = expand(item["value"], environ)
        assert check_tuner_id(environ[TUNER_ID]) == f"worker-{number}"
        assert chief_from_environment(environ) == Address(
            service["metadata"]["name"], service["spec"]["ports"][0]["port"]
        )


def test_chief_and_workers_share_one_read_write_many_run_directory(objects):
    claim = objects["PersistentVolumeClaim/tuner-runs"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for pod_spec in (objects["Pod/tuner-chief"]["spec"], objects["Job/tuner-workers"]["spec"]["template"]["spec"]):
        args = build_parser().parse_args(container(pod_spec)["args"])
        assert mounted_claims(pod_spec) == {str(args.runs_dir): claim["metadata"]["name"]}


def test_both_sides_read_the_same_valid_space(objects, tmp_path):
    config = objects["ConfigMap/tuner-space"]
    for pod_spec in (objects["Pod/tuner-chief"]["spec"], objects["Job/tuner-workers"]["spec"]["template"]["spec"]):
        args = build_parser().parse_args(container(pod_spec)["args"])
        (mount,) = [item for item in container(pod_spec)["volumeMounts"] if item["mountPath"] == str(args.space.parent)]
        (volume,) = [item for item in pod_spec["volumes"] if item["name"] == mount["name"]]
        assert volume["configMap"]["name"] == config["metadata"]["name"]
        assert args.space.name in config["data"]
    space = tmp_path / "space.yaml"
    space.write_text(config["data"]["space.yaml"], encoding="utf-8")
    spec, _ = load_spec(space)
    assert spec.data.source == "digits"
