"""What the CI of the deployment account runs: the CodeBuild buildspec of both promotion actions
(STAGE selects qa or prod) and the same flow as a GitHub Actions workflow, whose prod job's
environment carries the required reviewers (GitHub's manual gate)."""

from __future__ import annotations

from sagespec.spec.topology import Topology

# The role the promotion assumes in each workload account (rendered by workload.deployer.template.json).
DEPLOYER_ROLE = "sagespec-deployer"


def buildspec(topology: Topology) -> str:
    group_arn = topology.aws.sagemaker("$AWS_REGION", topology.accounts["shared_services"].id, "model-package-group/$GROUP")
    return f"""# sagespec promotion in CodeBuild (rendered by `sagespec cicd render`).
# STAGE=qa: promote the latest Approved version to QA, test the endpoint, export its version.
# STAGE=prod: promote VERSION (the one QA tested; the pipeline's manual approval sits between).
version: 0.2
env:
  exported-variables:
    - MODEL_VERSION
phases:
  install:
    runtime-versions:
      python: 3.11
    commands:
      - pip install --quiet .
  build:
    commands:
      - |
        set -eu
        GROUP_ARN="{group_arn}"
        AWS_OPTIONS="--target aws --assume-role-name $DEPLOYER_ROLE_NAME"
        if [ "$STAGE" = qa ]; then
          MODEL_VERSION=$(sagespec models list "$GROUP_ARN" --status Approved --latest --target aws --output json \\
            | python -c 'import json, sys; print(json.load(sys.stdin)[0]["version"])')
          sagespec promote "$GROUP" --stage qa --version "$MODEL_VERSION" $AWS_OPTIONS
          sagespec endpoints test "$GROUP-qa" --account qa --data "$TEST_DATA" $AWS_OPTIONS
        else
          MODEL_VERSION="$VERSION"
          # --yes: the pipeline's ManualGate approval is the confirmation.
          sagespec promote "$GROUP" --stage prod --version "$MODEL_VERSION" --yes $AWS_OPTIONS
        fi
        export MODEL_VERSION
"""


def github_workflow(topology: Topology) -> str:
    group = topology.model_package_groups[0] if topology.model_package_groups else "model-group"
    deployment = topology.accounts["deployment"].id
    group_arn = topology.aws.sagemaker("$AWS_REGION", topology.accounts["shared_services"].id, "model-package-group/$GROUP")
    # Both jobs check out, install and take the deployment account's role through GitHub's OIDC.
    setup = f"""      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: {topology.aws.role(deployment, "sagespec-promote-github")}
          aws-region: ${{{{ env.AWS_REGION }}}}
      - run: pip install .
"""
    return f"""# sagespec promotion as a GitHub Actions workflow (rendered by `sagespec cicd render`).
# Copy to .github/workflows/promote.yml. Start it by hand, or from an EventBridge API destination
# that sends a repository_dispatch "model-approved" event. The prod job's environment
# ("production") must have required reviewers: that review is the manual gate before prod.
name: promote
on:
  workflow_dispatch:
    inputs:
      version:
        description: Version to promote (default the latest Approved)
        required: false
  repository_dispatch:
    types: [model-approved]
permissions:
  id-token: write
  contents: read
env:
  GROUP: {group}
  AWS_REGION: {topology.region}
  AWS_OPTIONS: --target aws --assume-role-name {DEPLOYER_ROLE}
jobs:
  qa:
    runs-on: ubuntu-latest
    environment: qa
    outputs:
      version: ${{{{ steps.pick.outputs.version }}}}
    steps:
{setup}      - id: pick
        env:
          WANTED: ${{{{ inputs.version || github.event.client_payload.version }}}}
        run: |
          if [ -n "$WANTED" ]; then VERSION="$WANTED"; else
            VERSION=$(sagespec models list "{group_arn}" \\
              --status Approved --latest --target aws --output json | python -c 'import json, sys; print(json.load(sys.stdin)[0]["version"])')
          fi
          echo "version=$VERSION" >> "$GITHUB_OUTPUT"
      - run: sagespec promote "$GROUP" --stage qa --version "${{{{ steps.pick.outputs.version }}}}" $AWS_OPTIONS
      - run: sagespec endpoints test "$GROUP-qa" --account qa --data "${{{{ vars.TEST_DATA }}}}" $AWS_OPTIONS
  prod:
    needs: qa
    runs-on: ubuntu-latest
    environment: production
    steps:
{setup}      # --yes: the environment's required reviewers approved this job; that is the gate.
      - run: sagespec promote "$GROUP" --stage prod --version "${{{{ needs.qa.outputs.version }}}}" --yes $AWS_OPTIONS
"""
