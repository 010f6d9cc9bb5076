"""The catalogue of rule IDs: stable codes grouped by stage.

E0xxx YAML and I/O, E1xxx templates, E2xxx schema, E3xxx references and graph,
E4xxx step-specific and AWS-format checks, E5xxx compile, E6xxx AWS/runtime.
A code never changes meaning once published; retired codes are not reused.
"""

RULES: dict[str, str] = {
    # E0: reading the file
    "E0001": "file cannot be read",
    "E0002": "YAML syntax error",
    "E0003": "duplicate key in a mapping",
    "E0004": "unsupported YAML tag (only plain data is allowed)",
    "E0005": "aliases expand past the size limit (alias bomb) or refer to themselves",
    "E0006": "empty document or more than one document in a file",
    "E0007": "mapping key is not a string",
    "E0008": "a required external tool is not installed",
    # E1: templates
    "E1001": "template not found",
    "E1002": "template syntax error",
    "E1003": "undefined variable in a template",
    "E1004": "unknown template parameter",
    "E1005": "missing required template parameter",
    "E1006": "template parameter has the wrong type",
    "E1007": "template tried an operation the sandbox forbids",
    "E1008": "template file is malformed",
    "E1009": "template expression failed while rendering",
    # E2: JSON Schema
    "E2001": "unknown key",
    "E2002": "missing required key",
    "E2003": "value has the wrong type",
    "E2004": "value is not one of the allowed values",
    "E2005": "value does not match the required format",
    "E2006": "value is out of range or has the wrong size",
    "E2007": "value does not match any allowed form",
    # E3: references and graph
    "E3001": "reference to an unknown step",
    "E3002": "reference to an unknown parameter",
    "E3003": "dependency cycle",
    "E3004": "malformed reference",
    "E3005": "reference to something the step does not produce",
    "E3006": "duplicate step name",
    "E3007": "step used in more than one condition branch",
    "E3008": "unknown or duplicate name inside a step (input, output, property file)",
    # E4: step-specific and AWS formats
    "E4001": "condition reads a property file the step does not declare",
    "E4002": "property file names an output the step does not have",
    "E4003": "invalid JSON path for a property file",
    "E4004": "code or source path does not exist",
    "E4005": "code or source path escapes the project",
    "E4006": "cross-account registration without a KMS key on the training output",
    "E4007": "malformed or inconsistent ARN, account ID or region",
    "E4008": "parameter type mismatch",
    # E5: compile
    "E5001": "the SageMaker SDK rejected a step",
    "E5002": "the SageMaker SDK rejected the pipeline",
    "E5003": "compiling needed an AWS call that offline compilation does not answer",
    # E6: AWS and runtime
    "E6001": "no AWS credentials",
    "E6002": "AWS denied the request",
    "E6003": "unknown AWS profile or region",
    "E6004": "an AWS request failed",
    "E6005": "the resource (pipeline, version, endpoint, object) does not exist",
    "E6006": "unknown pipeline parameter",
    "E6007": "pipeline parameter value has the wrong type",
    "E6008": "no execution role",
    "E6009": "pipeline execution did not succeed",
    "E6010": "no caller identity (who is making the call)",
    "E6011": "the local control-plane database cannot be used",
    "E6012": "the resource already exists or the change conflicts with its state",
    "E6013": "the caller is not an account name, account ID or IAM role ARN",
    "E6014": "the accounts file lacks an account the command needs (a workload account, qa, prod)",
    "E6015": "several accounts fit: say which one (--account)",
    "E6016": "the output could not be written (closed pipe, missing folder, no permission)",
    "E6017": "malformed ARN or S3 URI",
    "E6018": "malformed policy document",
    # E7: promotion and endpoints
    "E7001": "the version is not Approved (only Approved versions are promoted)",
    "E7002": "the version has not passed QA (prod needs it, or --force --reason)",
    "E7003": "the endpoint failed to start or to update",
    "E7004": "the endpoint's state does not allow this (no canary, nothing to roll back, bad request)",
    "E7005": "the promotion options do not fit together",
    "E7006": "the QA test cannot run (no test data or no registered metric)",
    "E7007": "changing prod needs a confirmation",
    # W: warnings
    "W4001": "condition compares values of different kinds",
}

TITLES_BY_STAGE = {
    "E0": "YAML and I/O",
    "E1": "Templates",
    "E2": "JSON Schema",
    "E3": "References and graph",
    "E4": "Steps and AWS formats",
    "E5": "Compile",
    "E6": "AWS and runtime",
    "E7": "Promotion and endpoints",
    "W4": "Warnings about steps",
}
