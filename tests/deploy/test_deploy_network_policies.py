"""NetworkPolicies evaluated on the rendered manifests: who may open a connection to whom.

NetworkPolicy is L4: "ingestion and training only from the gateway's admin path" is enforced as
"only from gateway pods" here and by the gateway's GATEWAY_ADMIN_TOKEN check for the path.
"""

from __future__ import annotations

import ipaddress

import pytest
from deploy_helpers import SERVICES, VARIANTS, one

NAMESPACE = "animerec"
METRICS_PORT = 9090  # metrics.port of every chart


def _labels_match(selector: dict, labels: dict) -> bool:
    expressions = selector.get("matchExpressions", [])
    assert not expressions, "evaluator supports matchLabels only"
    return selector.get("matchLabels", {}).items() <= labels.items()


def _peer_admits(peer: dict, src: dict) -> bool:
    if "ipBlock" in peer:
        if src.get("ip") is None:
            return False
        ip = ipaddress.ip_address(src["ip"])
        block = peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if src.get("ip") is not None:  # traffic from outside the cluster matches only ipBlocks
        return False
    ns_labels = {"kubernetes.io/metadata.name": src["namespace"]}
    if "namespaceSelector" in peer:
        if not _labels_match(peer["namespaceSelector"], ns_labels):
            return False
    elif src["namespace"] != NAMESPACE:
        return False
    return _labels_match(peer["podSelector"], src.get("labels", {})) if "podSelector" in peer else True


def admits(policy: dict, src: dict, port: int) -> bool:
    """Returns True when the policy lets src open a TCP connection to the selected pods on port."""
    assert "Ingress" in policy["spec"]["policyTypes"]
    for rule in policy["spec"].get("ingress") or []:
        ports = rule.get("ports")
        if ports and not any(p.get("port") == port and p.get("protocol", "TCP") == "TCP" for p in ports):
            continue
        if any(_peer_admits(peer, src) for peer in rule.get("from", [])):
            return True
    return False


def server_pod(svc: str) -> dict:
    """Returns a source that looks like a pod of an animerec service (labels from the charts)."""
    return {
        "namespace": NAMESPACE,
        "labels": {
            "app.kubernetes.io/name": svc,
            "app.kubernetes.io/instance": svc,
            "app.kubernetes.io/part-of": "animerec",
            "app.kubernetes.io/component": "server",
        },
    }


@pytest.fixture(scope="module")
def policies(render):
    """Returns {variant: {svc: NetworkPolicy}} after checking each selects exactly its server pods."""
    out = {}
    for variant in VARIANTS:
        out[variant] = {}
        for svc in SERVICES:
            objs = render(svc, variant)
            policy = one(objs, "NetworkPolicy")
            pod_labels = one(objs, "Deployment")["spec"]["template"]["metadata"]["labels"]
            assert _labels_match(policy["spec"]["podSelector"], pod_labels)
            out[variant][svc] = policy
    return out


ALLOWED_CALLERS = {
    "gateway": set(),
    "ingestion": {"gateway"},
    "training": {"gateway"},
    "recommender": {"gateway", "explainer"},
    "explainer": {"gateway"},
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("target", SERVICES)
def test_each_service_admits_only_its_callers(policies, target, variant):
    policy = policies[variant][target]
    for caller in SERVICES:
        expected = caller in ALLOWED_CALLERS[target]
        assert admits(policy, server_pod(caller), SERVICES[target]) is expected, (caller, target)


@pytest.mark.parametrize("variant", VARIANTS)
def test_gateway_admits_the_callers_on_its_port_only(policies, variant):
    policy = policies[variant]["recommender"]
    assert admits(policy, server_pod("gateway"), 8003)
    assert not admits(policy, server_pod("gateway"), 8001)


@pytest.mark.parametrize("variant", VARIANTS)
def test_strangers_reach_nothing_but_the_load_balancer_reaches_the_gateway(policies, variant):
    stranger = {"namespace": NAMESPACE, "labels": {"app": "debug-shell"}}
    other_namespace = {"namespace": "default", "labels": server_pod("gateway")["labels"]}
    google_front_end = {"ip": "35.191.10.20"}
    internet = {"ip": "203.0.113.7"}
    for svc, policy in policies[variant].items():
        port = SERVICES[svc]
        assert not admits(policy, stranger, port), svc
        assert not admits(policy, other_namespace, port), svc  # a look-alike elsewhere is not the gateway
        assert not admits(policy, internet, port), svc
        assert admits(policy, google_front_end, port) is (svc == "gateway"), svc


def test_in_cluster_ingress_controller_reaches_only_the_gateway(policies):
    controller = {"namespace": "ingress-nginx", "labels": {"app.kubernetes.io/name": "ingress-nginx"}}
    for svc, policy in policies["default"].items():
        assert admits(policy, controller, SERVICES[svc]) is (svc == "gateway"), svc


def test_production_lets_managed_prometheus_scrape_the_metrics_port_only(render, policies):
    collector = {"namespace": "gmp-system", "labels": {"app.kubernetes.io/name": "collector"}}
    for svc, policy in policies["production"].items():
        assert admits(policy, collector, METRICS_PORT), svc
        assert not admits(policy, collector, SERVICES[svc]), svc  # no API port: no admin, no public routes
        # and nobody else reaches the metrics port: not the gateway, not the load balancer
        assert not admits(policy, server_pod("gateway"), METRICS_PORT), svc
        assert not admits(policy, {"ip": "35.191.10.20"}, METRICS_PORT), svc
        objs = render(svc, "production")
        server = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
        name = server["envFrom"][0]["configMapRef"]["name"]
        config = next(o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name)["data"]
        assert config[f"{svc.upper()}_METRICS_PORT"] == str(METRICS_PORT), svc
    for svc, policy in policies["default"].items():
        assert not admits(policy, collector, METRICS_PORT), svc  # no scraper named: the port stays closed


def test_retraining_cronjob_pods_reach_the_gateway_but_not_training(render, policies):
    objs = render("training", "production")
    cron = one(objs, "CronJob")
    labels = cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    retrain_pod = {"namespace": NAMESPACE, "labels": labels}
    assert admits(policies["production"]["gateway"], retrain_pod, 8000)
    for svc in ("ingestion", "training", "recommender", "explainer"):
        assert not admits(policies["production"][svc], retrain_pod, SERVICES[svc]), svc
    # The Service, PDB and NetworkPolicy of training select server pods, never the CronJob's.
    service = one(objs, "Service")
    assert not _labels_match({"matchLabels": service["spec"]["selector"]}, labels)


def _egress_allows(policy: dict, labels: dict, port: int) -> bool:
    for rule in policy["spec"].get("egress", []):
        if not any(p["port"] == port for p in rule.get("ports", [])):
            continue
        for peer in rule.get("to", []):
            if "podSelector" in peer and "namespaceSelector" not in peer and _labels_match(peer["podSelector"], labels):
                return True
    return False


def test_production_egress_allows_dns_and_the_upstreams_it_needs(policies):
    for svc, policy in policies["production"].items():
        assert "Egress" in policy["spec"]["policyTypes"], svc
        dns = policy["spec"]["egress"][0]
        assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    gateway = policies["production"]["gateway"]
    for upstream in ("ingestion", "training", "recommender", "explainer"):
        assert _egress_allows(gateway, server_pod(upstream)["labels"], SERVICES[upstream]), upstream
    explainer = policies["production"]["explainer"]
    assert _egress_allows(explainer, server_pod("recommender")["labels"], 8003)
    assert not _egress_allows(explainer, server_pod("ingestion")["labels"], 8001)


def test_default_values_leave_egress_open_until_enabled(policies):
    for svc, policy in policies["default"].items():
        assert policy["spec"]["policyTypes"] == ["Ingress"], svc
        assert "egress" not in policy["spec"], svc
