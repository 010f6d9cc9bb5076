"""What AWS decides, as data: partitions, ARNs, service principals and endpoints, limits, value
formats (durations, schedule expressions), image URIs; and boto3 sessions with errors a person
can act on (`sessions`)."""
