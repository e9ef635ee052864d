"""Structure of the declarative Jenkinsfile: stages, one image per service, staging, approval, production, secrets."""

from __future__ import annotations

import re

import pytest
from deploy_helpers import REPO, SERVICES

STAGES = [
    "Checkout",
    "Install",
    "Lint",
    "Test",
    "Build and push",
    "Deploy staging",
    "Smoke test",
    "Approve production",
    "Deploy production",
]


@pytest.fixture(scope="module")
def jenkinsfile() -> str:
    return (REPO / "Jenkinsfile").read_text()


def shell_blocks(text: str) -> list[str]:
    """Returns the bodies of the single-quoted sh steps (Groovy does not interpolate them)."""
    return re.findall(r"sh\s+'''(.*?)'''", text, re.S) + re.findall(r"sh\s+'([^'\n]*)'", text)


def stage_body(text: str, name: str) -> str:
    """Returns the text of a stage up to the next stage declaration."""
    start = text.index(f"stage('{name}')")
    end = text.find("stage('", start + 1)
    return text[start : end if end > 0 else len(text)]


def test_declarative_pipeline_has_every_stage_in_order(jenkinsfile):
    assert re.search(r"^pipeline\s*\{", jenkinsfile, re.M)
    names = re.findall(r"stage\('([^']+)'\)", jenkinsfile)
    in_order = [n for n in names if n in STAGES]
    assert in_order == STAGES, names


def test_one_image_per_service_tagged_with_the_git_sha_in_artifact_registry(jenkinsfile):
    axis = re.search(r"name 'SERVICE'\s+values ([^\n]+)", jenkinsfile).group(1)
    assert re.findall(r"'(\w+)'", axis) == list(SERVICES) or set(re.findall(r"'(\w+)'", axis)) == set(SERVICES)
    assert "env.IMAGE_TAG = sh(script: 'git rev-parse HEAD'" in jenkinsfile
    registry = re.search(r"REGISTRY\s+=\s+'([^']+)'", jenkinsfile).group(1)
    assert re.fullmatch(r"[a-z0-9-]+-docker\.pkg\.dev/[a-z0-9-]+/[a-z0-9-]+", registry)
    build = stage_body(jenkinsfile, "Build and push") + stage_body(jenkinsfile, "Image")
    assert '--file Dockerfile --build-arg "SERVICE=$SERVICE"' in build  # the one Dockerfile, per service
    assert "--file Dockerfile --build-arg SERVICE=training" in build and "TF_PACKAGE=tensorflow[and-cuda]" in build
    assert '--tag "$REGISTRY/$SERVICE:$IMAGE_TAG" .' in build
    assert 'docker push "$REGISTRY/$SERVICE:$IMAGE_TAG"' in build
    # Only changed services are built (matrix when), and the change detection knows the shared code.
    assert "env.CHANGED_SERVICES.tokenize(',').contains(env.SERVICE)" in build
    assert "git diff --name-only" in jenkinsfile and "it.startsWith('shared/')" in jenkinsfile
    assert "it == 'Dockerfile'" in jenkinsfile  # every image is built from it


def test_staging_gets_helm_upgrade_install_of_changed_services_then_a_readyz_smoke_test(jenkinsfile):
    staging = stage_body(jenkinsfile, "Deploy staging")
    assert 'for svc in $(echo "$CHANGED_SERVICES"' in staging
    assert 'helm dependency build "charts/$svc"' in staging
    assert re.search(r'helm upgrade --install "\$svc" "charts/\$svc" \\\s+--namespace "\$STAGING_NAMESPACE"', staging)
    assert '--set-string image.tag="$IMAGE_TAG"' in staging and "--atomic --wait" in staging
    smoke = stage_body(jenkinsfile, "Smoke test")
    assert re.search(r'curl --fail .*"https://\$STAGING_HOST/readyz"', smoke, re.S)
    # ... and through the gateway to upstreams (training's model list, the recommender's search).
    assert '"https://$STAGING_HOST/api/v1/models"' in smoke and '"https://$STAGING_HOST/api/v1/anime?q=' in smoke


def test_production_waits_for_a_manual_approval_without_holding_an_agent(jenkinsfile):
    assert re.search(r"^  agent none", jenkinsfile, re.M)
    approve = stage_body(jenkinsfile, "Approve production")
    assert re.search(r"input \{\s+message '[^']+'", approve) and "agent {" not in approve
    assert "branch 'main'" in approve
    production = stage_body(jenkinsfile, "Deploy production")
    assert '-f "charts/$svc/values-production.yaml"' in production
    assert '--set-string image.tag="$IMAGE_TAG"' in production
    assert '--namespace "$PROD_NAMESPACE"' in production


def test_credentials_only_through_with_credentials_and_never_echoed(jenkinsfile):
    bound = re.findall(r"withCredentials\(\[file\(credentialsId: '[^']+', variable: '(\w+)'\)\]\)", jenkinsfile)
    assert bound and set(bound) == {"GCP_KEY"}
    assert "credentials(" not in jenkinsfile  # no environment-block credentials
    assert not re.search(r"(?i)(password|token|secret)\s*=\s*['\"]", jenkinsfile)
    blocks = shell_blocks(jenkinsfile)
    outside = re.sub(r"sh\s+'''.*?'''", "", jenkinsfile, flags=re.S)
    for var in set(bound):
        # Groovy never sees the secret: it is only used inside single-quoted shell steps.
        assert re.findall(rf"\b{var}\b", outside) == [f"{var}"] * outside.count(f"'{var}'"), var
        for block in blocks:
            if f"${var}" not in block and f"${{{var}}}" not in block:
                continue
            tracing = False
            for line in block.splitlines():
                stripped = line.strip()
                if stripped.startswith("set -x"):
                    tracing = True
                elif stripped.startswith("set +x"):
                    tracing = False
                if var in stripped:
                    assert not tracing, f"{var} used while the shell traces: {stripped}"
                    assert not re.match(r"(echo|printf|cat)\b", stripped), stripped
    for block in blocks:
        assert not re.search(r"echo\s+.*\$\{?(GCP_KEY|GATEWAY_ADMIN_TOKEN|COMET_API_KEY|OPENAI_API_KEY)", block)


def test_lint_and_test_stages_run_the_project_checks(jenkinsfile):
    lint = stage_body(jenkinsfile, "Lint")
    assert "helm lint --strict" in lint and "values-production.yaml" in lint
    assert "hadolint --failure-threshold warning Dockerfile" in lint
    assert "./.ci/run" in stage_body(jenkinsfile, "Test")
    assert "make install" in stage_body(jenkinsfile, "Install")
