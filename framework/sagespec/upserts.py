"""An upsert into an account: the buckets it writes to exist first (or are created as the
accounts file says), then the code, the definition and the pipeline.

A bucket that is the accounts file's artifact bucket belongs to the account that owns the
artifacts: `--create-bucket` creates it only when called as that account, with the same bucket
policy `accounts render` gives it (the other accounts' grants and TLS only); from any other
account it says where to create it. Any other bucket is created in the caller's account, TLS only.
"""

from __future__ import annotations

from sagespec.diagnostics import UserError


def upsert(project, compiled, pipelines, role: str | None = None, create_bucket: bool = False, upload_only: bool = False):
    """(UpsertResult, what was done to create missing buckets). With `upload_only` the pipeline is
    left alone: the code and the definition are uploaded for a CloudFormation stack."""
    created: list[str] = []
    absent = pipelines.missing_buckets(compiled)
    if absent and not create_bucket:
        bucket = absent[0]
        raise UserError(
            "E6020",
            f"bucket {bucket} does not exist: pipeline {compiled.name} uploads its code and definition there (session.default_bucket)",
            hint=f"create it with `sagespec upsert SPEC --create-bucket`, or `aws s3api create-bucket --bucket {bucket}`"
            + ("" if compiled.region == "us-east-1" else f" --create-bucket-configuration LocationConstraint={compiled.region}"),
        )
    for bucket in absent:
        created += _create(project, compiled, pipelines, bucket)
    return (pipelines.upload(compiled) if upload_only else pipelines.upsert(compiled, role)), created


def _create(project, compiled, pipelines, bucket: str) -> list[str]:
    topology = project.topology()
    artifacts = topology.artifacts or {}
    policy = None
    if topology.accounts and bucket == artifacts.get("bucket"):
        owner = topology.artifacts_owner
        caller = pipelines.caller_account()
        if caller != owner.id:
            raise UserError(
                "E6020",
                f"bucket {bucket} is the artifact bucket of {topology.source.name if topology.source else 'the accounts file'},"
                f" owned by the {owner.name} account ({owner.id}); you are calling as account {caller}",
                hint=f"create it as {owner.name}: `sagespec upsert SPEC --create-bucket --profile {owner.profile or owner.name}`,"
                " or deploy its template from `sagespec accounts render --output cloudformation -o DIR`",
            )
        policy = _rendered_bucket_policy(project, topology)
    return pipelines.create_bucket(bucket, compiled.region, artifacts.get("kms_key"), policy)


def _rendered_bucket_policy(project, topology) -> dict:
    from sagespec.crossaccount.pipelines import pipeline_needs
    from sagespec.crossaccount.render import render

    for account in render(topology, needs=pipeline_needs(project)):
        for policy in account.resource_policies:
            if policy.kind == "s3-bucket":
                return policy.document
    raise AssertionError("the rendering of an accounts file always has the artifact bucket's policy")
