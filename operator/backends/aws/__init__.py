"""AWS I/O for the CloudCredential kind: validation (STS), inventory (EC2) and costs (Cost Explorer).

    factory = AwsClientFactory(max_concurrency=4)
    aws = factory.get(AwsConnectionParams(access_key_id, secret_access_key=..., region="eu-west-1",
                                          assume_role_arn=None, endpoint_url=None))
    aws.validate()                       # CloudIdentity(account, principal ARN, expires_at for a role)
    aws.inventory(["vms", "storage"])    # Inventory of InventoryRecord
    aws.costs(date(2026, 1, 1), date(2026, 2, 1))

Only this package imports boto3/botocore. Calls are synchronous: run them in worker threads.
"""

from ._client import AwsClientFactory, Boto3Backend
from ._costs import CostPeriod, CostReport
from ._errors import ERROR_CODES, map_exception, missing_action
from ._params import AwsConnectionParams
from ._protocol import AwsBackend
from ._provision import AwsProvisioner, provisioner

__all__ = [
    "ERROR_CODES",
    "AwsBackend",
    "AwsClientFactory",
    "AwsConnectionParams",
    "AwsProvisioner",
    "Boto3Backend",
    "CostPeriod",
    "CostReport",
    "map_exception",
    "missing_action",
    "provisioner",
]
