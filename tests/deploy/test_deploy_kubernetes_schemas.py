"""Every rendered manifest is valid against the Kubernetes API schemas of the GKE version the docs target."""

from __future__ import annotations

import pytest
from deploy_helpers import SERVICES, VARIANTS

kubernetes_validate = pytest.importorskip("kubernetes_validate")

# docs/deploy.md: the clusters run GKE 1.34 (regular channel).
KUBERNETES_VERSION = "1.34.0"
# Custom resources of GKE add-ons: not part of the Kubernetes API schemas, checked by our own assertions.
CUSTOM_KINDS = {"PodMonitoring", "BackendConfig"}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("svc", SERVICES)
def test_rendered_manifests_validate_against_the_kubernetes_schemas(render, svc, variant):
    objs = render(svc, variant)
    checked = 0
    for obj in objs:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{svc} ({variant}) {obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
        checked += 1
    assert checked >= 3  # at least the Deployment, Service and ServiceAccount
