"""Helm charts rendered by the real Helm engine: lint, hardening, probes, resources, images, secrets."""

from __future__ import annotations

import json
import re

import pytest
from deploy_helpers import SECRET_ENV, SERVICES, VARIANTS, of_kind, one

UNITS = {"": 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}


def quantity(value: str | int | float) -> float:
    """Returns a Kubernetes quantity ("500m", "4Gi", 2) as a number."""
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value)).groups()
    return float(number) * UNITS[unit]


def pod_spec(objs):
    return one(objs, "Deployment")["spec"]["template"]["spec"]


def container(objs):
    containers = pod_spec(objs)["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_lint_passes_without_warnings_for_every_chart(helm, chart_dirs, svc, variant):
    values = None
    if variant == "production":
        from deploy_helpers import load_yaml

        values = load_yaml(chart_dirs[svc] / "values-production.yaml")
    # GKE's stable channel is at least 1.30; deprecated or removed APIs would be reported.
    report = helm.lint(chart_dirs[svc], values, strict=True, namespace="animerec", kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], report


def test_library_chart_lints_and_renders_nothing_itself(helm, chart_dirs):
    lib = chart_dirs["gateway"].parent / "animerec-lib"
    report = helm.lint(lib, strict=True)
    assert report["errors"] == [] and [m for m in report["messages"] if m["severity"] >= 2] == [], report
    with helm.Chart.load(lib) as chart:
        assert chart.metadata["type"] == "library"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_probes_hit_healthz_and_readyz_on_the_service_port(render, svc, variant):
    objs = render(svc, variant)
    c = container(objs)
    assert c["ports"] == [
        {"name": "http", "containerPort": SERVICES[svc], "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},  # Prometheus only (NetworkPolicy)
    ]
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # The startup probe must give the app longer than liveness would before a restart.
    startup = c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
    liveness = c["livenessProbe"]["periodSeconds"] * c["livenessProbe"]["failureThreshold"]
    assert startup >= 120 and startup > liveness


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_pods_run_non_root_with_read_only_root_and_no_capabilities(render, svc, variant):
    objs = render(svc, variant)
    spec = pod_spec(objs)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] > 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    sc = container(objs)["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] > 0
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    # A read-only root needs a writable /tmp: an emptyDir with a size limit.
    mounts = {m["mountPath"]: m["name"] for m in container(objs)["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes[mounts["/tmp"]]["emptyDir"]["sizeLimit"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_resources_have_requests_within_limits(render, svc, variant):
    resources = container(render(svc, variant))["resources"]
    for name in ("cpu", "memory"):
        assert quantity(resources["requests"][name]) <= quantity(resources["limits"][name]), name
    assert quantity(resources["limits"]["memory"]) >= 2**28


@pytest.mark.parametrize("svc", SERVICES)
def test_image_repository_and_tag_come_from_values(render, svc):
    objs = render(svc, overrides={"image": {"repository": "registry.test/x/" + svc, "tag": "0123abc"}})
    assert container(objs)["image"] == f"registry.test/x/{svc}:0123abc"
    labels = one(objs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "0123abc"
    # Without a tag the chart's appVersion is used; a digest pins the image instead.
    assert container(render(svc))["image"].endswith(f"/{svc}:0.1.0")
    pinned = render(svc, overrides={"image": {"digest": "sha256:" + "a" * 64}})
    assert container(pinned)["image"].endswith(f"/{svc}@sha256:" + "a" * 64)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_hpa_only_for_gateway_and_recommender(render, svc, variant):
    objs = render(svc, variant)
    hpas = of_kind(objs, "HorizontalPodAutoscaler")
    if svc in ("gateway", "recommender"):
        (hpa,) = hpas
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc}
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        assert "replicas" not in one(objs, "Deployment")["spec"]  # the HPA owns the replica count
    else:
        assert hpas == []


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_ingress_only_for_gateway_and_services_are_cluster_ip(render, svc, variant):
    objs = render(svc, variant)
    service = one(objs, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": SERVICES[svc], "targetPort": "http", "protocol": "TCP"}
    ]
    pod_labels = one(objs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    ingresses = of_kind(objs, "Ingress")
    if svc == "gateway":
        (ing,) = ingresses
        backends = [p["backend"]["service"] for r in ing["spec"]["rules"] for p in r["http"]["paths"]]
        assert backends == [{"name": "gateway", "port": {"name": "http"}}]
    else:
        assert ingresses == []


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_pdb_selects_the_server_pods(render, svc, variant):
    objs = render(svc, variant)
    pdb = one(objs, "PodDisruptionBudget")
    pod_labels = one(objs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    replicas = one(objs, "Deployment")["spec"].get("replicas")
    if replicas == 1:  # a singleton must never block a node drain
        assert pdb["spec"].get("maxUnavailable") == 1
    else:
        assert pdb["spec"]["minAvailable"] >= 1


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_secrets_come_only_from_existing_secrets(render, svc, variant):
    objs = render(svc, variant)
    assert of_kind(objs, "Secret") == []
    for cm in of_kind(objs, "ConfigMap"):
        for key in cm.get("data", {}):
            assert not re.search("KEY|TOKEN|SECRET|PASSWORD", key), key
    env = {e["name"]: e for e in container(objs).get("env", [])}
    expected = {
        "gateway": {"GATEWAY_ADMIN_TOKEN", "SERVICE_TOKEN"},
        "ingestion": {"SERVICE_TOKEN"},
        "training": {"COMET_API_KEY", "SERVICE_TOKEN"},
        "recommender": {"SERVICE_TOKEN"},
        "explainer": {"OPENAI_API_KEY"},
    }
    assert set(env) & SECRET_ENV == expected.get(svc, set())
    for name in expected.get(svc, set()):
        assert set(env[name]) == {"name", "valueFrom"}
        assert set(env[name]["valueFrom"]) == {"secretKeyRef"}


def test_config_that_looks_like_a_secret_is_refused(render, helm):
    with pytest.raises(helm.HelmError, match="looks like a secret"):
        render("gateway", overrides={"config": {"GATEWAY_ADMIN_TOKEN": "hunter2hunter2hunter2"}})


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_service_account_is_bound_for_workload_identity_only_where_storage_is_used(render, svc, variant):
    objs = render(svc, variant)
    sa = one(objs, "ServiceAccount")
    assert pod_spec(objs)["serviceAccountName"] == sa["metadata"]["name"]
    assert sa["automountServiceAccountToken"] is False
    annotation = sa["metadata"].get("annotations", {}).get("iam.gke.io/gcp-service-account")
    if svc in ("ingestion", "training", "recommender"):
        project = "animerec-prod" if variant == "production" else "animerec-staging"
        assert annotation == f"animerec-{svc}@{project}.iam.gserviceaccount.com"
    else:  # the gateway and the explainer only speak HTTP to other services
        assert annotation is None


@pytest.mark.parametrize("svc", SERVICES)
def test_config_change_rolls_the_pods(render, svc):
    def checksum(objs):
        return one(objs, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    changed = render(svc, overrides={"config": {"LOG_LEVEL": "DEBUG"}})
    assert checksum(changed) != checksum(render(svc))
    assert one(changed, "ConfigMap")["data"]["LOG_LEVEL"] == "DEBUG"


def test_singletons_are_replaced_not_overlapped(render):
    for svc in ("ingestion", "training"):
        spec = one(render(svc, "production"), "Deployment")["spec"]
        assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}


def test_production_training_runs_on_the_gpu_pool_with_the_cuda_image(render):
    objs = render("training", "production")
    c = container(objs)
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert c["image"].split("/")[-1].startswith("training-gpu:")
    assert pod_spec(objs)["nodeSelector"]["cloud.google.com/gke-accelerator"]
    assert any(t["key"] == "nvidia.com/gpu" for t in pod_spec(objs)["tolerations"])


def test_ingestion_mounts_the_incoming_bucket_read_only(render):
    objs = render("ingestion", "production")
    spec = pod_spec(objs)
    volume = next(v for v in spec["volumes"] if v["name"] == "incoming")
    assert volume["csi"]["driver"] == "gcsfuse.csi.storage.gke.io" and volume["csi"]["readOnly"] is True
    assert volume["csi"]["volumeAttributes"]["bucketName"] == "animerec-prod-data"
    mount = next(m for m in container(objs)["volumeMounts"] if m["name"] == "incoming")
    assert mount["readOnly"] is True
    config = one(objs, "ConfigMap")["data"]
    assert config["INGESTION_ALLOWED_ROOT"] == mount["mountPath"]
    annotations = one(objs, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["gke-gcsfuse/volumes"] == "true"


@pytest.mark.parametrize("variant", VARIANTS)
def test_gateway_load_balancer_checks_readyz_and_upstreams_use_service_names(render, variant):
    objs = render("gateway", variant)
    backend = one(objs, "BackendConfig")
    assert backend["spec"]["healthCheck"]["requestPath"] == "/readyz"
    assert one(objs, "Service")["metadata"]["annotations"]["cloud.google.com/backend-config"] == '{"default":"gateway"}'
    config = one(objs, "ConfigMap")["data"]
    for svc, port in SERVICES.items():
        if svc != "gateway":
            assert config[f"GATEWAY_{svc.upper()}_URL"] == f"http://{svc}:{port}"
    assert config["GATEWAY_ENVIRONMENT"] == "production"  # refuses to start without a strong GATEWAY_ADMIN_TOKEN
    assert config["GATEWAY_READYZ_UPSTREAMS"] == ""  # no cascading readiness through the load balancer
    # Behind the GCLB the pod cannot tell clients apart: per-client limits are Cloud Armor's job.
    assert config["GATEWAY_RATE_LIMIT_PER_MINUTE"] == "0" and config["GATEWAY_TRUST_FORWARDED_FOR"] == "false"
    if variant == "production":
        assert backend["spec"]["securityPolicy"]["name"]


@pytest.mark.parametrize("svc", SERVICES)
def test_production_scrapes_metrics_of_the_server_pods(render, svc):
    assert of_kind(render(svc), "PodMonitoring") == []
    objs = render(svc, "production")
    monitor = one(objs, "PodMonitoring")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    container = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["metrics"] == 9090 and ports["metrics"] != ports["http"]
    # the Service publishes the API port only: the metrics port is reached pod to pod, by the scraper
    assert [p["targetPort"] for p in one(objs, "Service")["spec"]["ports"]] == ["http"]
    pod_labels = one(objs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_distributed_training_job_gives_each_worker_pod_its_tf_config(render):
    assert not of_kind(render("training"), "Job")  # off by default
    objs = render("training", "production", overrides={"distributedTraining": {"enabled": True, "workers": 3}})
    job = one(objs, "Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == 3
    pod = spec["template"]["spec"]
    headless = next(s for s in of_kind(objs, "Service") if s["spec"].get("clusterIP") == "None")
    assert pod["subdomain"] == headless["metadata"]["name"]
    assert headless["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    server = next(s for s in of_kind(objs, "Service") if s is not headless)  # the API keeps off the workers
    assert not server["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    worker = pod["containers"][0]
    assert {"name": "TRAINING_STRATEGY", "value": "multi_worker"} in worker["env"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1  # production: on the GPU pool
    # The TF_CONFIG the shell builds for worker 1 is valid JSON naming every worker's DNS name.
    script = worker["command"][2]
    exported = script.split('export TF_CONFIG="', 1)[1].split('"\n', 1)[0].split('" &&', 1)[0]
    tf_config = json.loads(exported.replace('\\"', '"').replace("${JOB_COMPLETION_INDEX}", "1"))
    name = headless["metadata"]["name"]
    assert tf_config == {
        "cluster": {"worker": [f"{name}-{i}.{name}:12345" for i in range(3)]},
        "task": {"type": "worker", "index": 1},
    }
    assert script.rstrip().endswith("exec animerec train --promote if_better --json")


def _pod_envs(objs):
    """Yields (kind/name, env list, configmap names of envFrom) of every container of every workload."""
    for obj in objs:
        spec = obj.get("spec", {})
        template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template")
        if not template:
            continue
        for c in template["spec"].get("containers", []) + template["spec"].get("initContainers", []):
            yield f"{obj['kind']}/{obj['metadata']['name']}/{c['name']}", c.get("env", [])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_service_token_is_mounted_only_where_it_is_checked_or_sent(render, svc, variant):
    """SERVICE_TOKEN (#16 item 4): from the one existing Secret, in the gateway (sends it) and the three services
    whose mutating routes check it, never in the explainer; the admin token stays with the gateway and its
    retraining client; the checkers run with <SVC>_ENVIRONMENT=production, which refuses to start without it."""
    objs = render(svc, variant)
    holders = {"gateway", "ingestion", "training", "recommender"}
    for where, env in _pod_envs(objs):
        by_name = {e["name"]: e for e in env}
        retrain_client = "GATEWAY_URL" in by_name  # the training chart's CronJob calling the gateway's admin API
        if svc in holders and not retrain_client:
            ref = by_name["SERVICE_TOKEN"]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"], ref.get("optional")) == ("animerec-service-token", "service-token", False)
        else:
            assert "SERVICE_TOKEN" not in by_name, where
        if "GATEWAY_ADMIN_TOKEN" in by_name:
            assert svc == "gateway" or retrain_client, where
    if svc in ("ingestion", "training", "recommender"):
        settings = [cm["data"] for cm in of_kind(objs, "ConfigMap") if "STORAGE_URL" in cm.get("data", {})]
        assert [data[f"{svc.upper()}_ENVIRONMENT"] for data in settings] == ["production"]
