"""AwsProvisioner: the CloudResource ResourceProvisioner over EC2 (instances, EBS volumes, VPCs + subnets) and S3.

Crash safety: RunInstances and CreateVolume carry ``ClientToken=request.token`` (AWS answers a retry with the
first call's resource); every resource is tagged ``daytwo-owner=<owner_tag>`` at creation
(TagSpecifications, so the tag exists from the first moment), which ``find`` looks up to adopt what a
crashed attempt created. VPCs have no client token: the reconciler calls ``find`` before ``create``. A
bucket's name is the request's deterministic name. Calls go through :class:`Boto3Backend`'s retrying,
concurrency-limited call path; one provisioner serves one region (the handler gives a CloudResource with its
own ``region`` params with that region).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ...errors import Conflict, InvalidRequest, NotFound
from ..provisioning import (
    OWNER_TAG_KEY,
    ProvisionedResource,
    ProvisionRequest,
    ProvisionState,
    ResourceProvisioner,
    ResourceType,
    managed_view,
)
from ._client import Boto3Backend
from ._params import AwsConnectionParams

__all__ = ["AwsProvisioner", "provisioner"]

_INSTANCE_STATES = {
    "pending": ProvisionState.CREATING,
    "running": ProvisionState.ACTIVE,
    "stopping": ProvisionState.UPDATING,
    "stopped": ProvisionState.ACTIVE,
    "shutting-down": ProvisionState.DELETING,
}
_VOLUME_STATES = {
    "creating": ProvisionState.CREATING,
    "available": ProvisionState.ACTIVE,
    "in-use": ProvisionState.ACTIVE,
    "deleting": ProvisionState.DELETING,
    "error": ProvisionState.FAILED,
}
_LIVE_INSTANCES = ["pending", "running", "stopping", "stopped"]


def _strings(settings: Mapping[str, object], key: str) -> list[str]:
    """A list setting (securityGroups, subnets) as strings; absent is empty."""
    value = settings.get(key) or ()
    return [str(item) for item in value] if isinstance(value, tuple | list) else [str(value)]


def _tags(request: ProvisionRequest) -> list[dict[str, str]]:
    tags = {"Name": request.name, **request.tags, OWNER_TAG_KEY: request.owner_tag}
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _spec(resource: str, request: ProvisionRequest) -> list[dict[str, Any]]:
    return [{"ResourceType": resource, "Tags": _tags(request)}]


def _tag_map(items: Any) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in items or ()}


def _user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The managed view of tags: every tag but the owner tag and Name (which the provisioner sets)."""
    return {f"tags.{k}": v for k, v in tags.items() if k not in (OWNER_TAG_KEY, "Name")}


class AwsProvisioner:
    """Create, observe, update and delete EC2 instances, EBS volumes, VPCs and S3 buckets of one account."""

    def __init__(self, backend: Boto3Backend) -> None:
        self._aws = backend
        self._region = backend.params.region
        self._account: str | None = None

    def close(self) -> None:
        """Close the pooled connections."""
        self._aws.close()

    @property
    def calls_made(self) -> int:
        """HTTP attempts made so far (retries included)."""
        return self._aws.calls_made

    def _api(self, service: str, operation: str, args: Mapping[str, Any], what: str) -> Any:
        # Boto3Backend's one call path: endpoint slot, error mapping, retries of what is retryable.
        return self._aws._call(self._aws._keys(), service, operation, args, what)

    # ------------------------------------------------------------------ protocol

    def find(self, request: ProvisionRequest) -> ProvisionedResource | None:
        """The resource tagged daytwo-owner=<owner_tag> (a bucket: the one of the request's name carrying it)."""
        owner = [{"Name": f"tag:{OWNER_TAG_KEY}", "Values": [request.owner_tag]}]
        if request.type is ResourceType.VM:
            filters = [*owner, {"Name": "instance-state-name", "Values": _LIVE_INSTANCES}]
            answer = self._api("ec2", "DescribeInstances", {"Filters": filters}, "find instance by owner tag")
            found = [i for r in answer.get("Reservations") or () for i in r.get("Instances") or ()]
            return self._instance(found[0]) if found else None
        if request.type is ResourceType.NETWORK:
            answer = self._api("ec2", "DescribeVpcs", {"Filters": owner}, "find VPC by owner tag")
            vpcs = answer.get("Vpcs") or []
            return self._vpc(vpcs[0]) if vpcs else None
        if request.settings.get("storageKind") == "bucket":
            bucket = self._bucket(request.name)
            return bucket if bucket is not None and bucket.managed.get("owner") == request.owner_tag else None
        answer = self._api("ec2", "DescribeVolumes", {"Filters": owner}, "find volume by owner tag")
        volumes = [v for v in answer.get("Volumes") or () if v.get("State") not in ("deleting", "deleted")]
        return self._volume(volumes[0]) if volumes else None

    def create(self, request: ProvisionRequest) -> ProvisionedResource:
        """RunInstances / CreateVolume (ClientToken), CreateVpc + CreateSubnet, CreateBucket + PutBucketTagging."""
        settings = request.settings
        if request.type is ResourceType.VM:
            args: dict[str, Any] = {
                "ImageId": settings["image"],
                "InstanceType": settings["size"],
                "MinCount": 1,
                "MaxCount": 1,
                "ClientToken": request.token,
                "TagSpecifications": [*_spec("instance", request), *_spec("volume", request)],
            }
            if settings.get("keyName"):
                args["KeyName"] = settings["keyName"]
            groups = _strings(settings, "securityGroups")
            if settings.get("publicIp") and settings.get("subnet"):
                nic: dict[str, Any] = {
                    "DeviceIndex": 0,
                    "SubnetId": settings["subnet"],
                    "AssociatePublicIpAddress": True,
                }
                if groups:
                    nic["Groups"] = groups
                args["NetworkInterfaces"] = [nic]
            else:
                if settings.get("subnet"):
                    args["SubnetId"] = settings["subnet"]
                if groups:
                    args["SecurityGroupIds"] = groups
            answer = self._api("ec2", "RunInstances", args, f"run instance {request.name}")
            return self._instance(answer["Instances"][0])
        if request.type is ResourceType.NETWORK:
            args = {"CidrBlock": settings["cidr"], "TagSpecifications": _spec("vpc", request)}
            vpc = self._api("ec2", "CreateVpc", args, f"create VPC {request.name}")["Vpc"]
            self._ensure_subnets(request, vpc["VpcId"], {})
            return self._vpc(vpc)
        if settings.get("storageKind") == "bucket":
            return self._create_bucket(request)
        zone = str(settings.get("zone") or f"{self._region}a")
        args = {
            "AvailabilityZone": zone,
            "Size": int(str(settings["sizeGb"])),
            "VolumeType": "gp3",
            "ClientToken": request.token,
            "TagSpecifications": _spec("volume", request),
        }
        return self._volume(self._api("ec2", "CreateVolume", args, f"create volume {request.name}"))

    def observe(self, type: ResourceType, external_id: str) -> ProvisionedResource | None:
        """The resource now; None when it is gone (terminated instance, deleted volume/VPC, absent bucket)."""
        try:
            if type is ResourceType.VM:
                answer = self._api("ec2", "DescribeInstances", {"InstanceIds": [external_id]}, "observe")
                found = [i for r in answer.get("Reservations") or () for i in r.get("Instances") or ()]
                live = [i for i in found if i["State"]["Name"] != "terminated"]
                return self._instance(live[0]) if live else None
            if type is ResourceType.NETWORK:
                answer = self._api("ec2", "DescribeVpcs", {"VpcIds": [external_id]}, "observe VPC")
                vpcs = answer.get("Vpcs") or []
                return self._vpc(vpcs[0]) if vpcs else None
            if external_id.startswith("vol-"):
                answer = self._api("ec2", "DescribeVolumes", {"VolumeIds": [external_id]}, "observe volume")
                volumes = [v for v in answer.get("Volumes") or () if v.get("State") != "deleted"]
                return self._volume(volumes[0]) if volumes else None
            return self._bucket(external_id)
        except NotFound:
            return None

    def update(self, request: ProvisionRequest, current: ProvisionedResource) -> ProvisionedResource:
        """Tags everywhere; instance security groups, a stopped instance's type; volume growth; missing subnets."""
        settings, ident = request.settings, current.external_id
        desired = managed_view(request)
        changed = {k for k, v in desired.items() if current.managed.get(k, v) != v}
        if request.type is ResourceType.VM and "size" in changed and current.outputs.get("state") != "stopped":
            raise InvalidRequest(
                f"vm.size: changing {current.managed.get('size')} -> {settings['size']} needs the instance stopped; "
                "stop it (or create a new CloudResource)"
            )
        tags = {k.removeprefix("tags."): desired[k] for k in changed if k.startswith("tags.")}
        bucket = request.type is ResourceType.STORAGE and settings.get("storageKind") == "bucket"
        if tags and not bucket:
            pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
            self._api("ec2", "CreateTags", {"Resources": [ident], "Tags": pairs}, f"tag {ident}")
        elif tags:
            merged = {**self._bucket_tags(ident), **tags}
            tagging = {"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]}
            self._api("s3", "PutBucketTagging", {"Bucket": ident, "Tagging": tagging}, f"tag bucket {ident}")
        if request.type is ResourceType.VM:
            if "securityGroups" in changed:
                groups = _strings(settings, "securityGroups")
                args: dict[str, Any] = {"InstanceId": ident, "Groups": groups}
                self._api("ec2", "ModifyInstanceAttribute", args, f"set security groups of {ident}")
            if "size" in changed:
                args = {"InstanceId": ident, "InstanceType": {"Value": settings["size"]}}
                self._api("ec2", "ModifyInstanceAttribute", args, f"resize {ident}")
        elif request.type is ResourceType.NETWORK:
            self._ensure_subnets(request, ident, self._subnets(ident))
        elif "sizeGb" in changed:
            if int(desired["sizeGb"]) < int(current.managed["sizeGb"]):
                raise InvalidRequest(f"storage.sizeGb: a volume cannot shrink ({current.managed['sizeGb']} GiB now)")
            args = {"VolumeId": ident, "Size": int(desired["sizeGb"])}
            self._api("ec2", "ModifyVolume", args, f"grow volume {ident}")
        observed = self.observe(request.type, ident)
        return observed if observed is not None else current

    def delete(self, type: ResourceType, external_id: str) -> bool:
        """TerminateInstances / DeleteVolume / DeleteSubnet + DeleteVpc / DeleteBucket; True once gone."""
        current = self.observe(type, external_id)
        if current is None:
            return True
        if current.state is ProvisionState.DELETING:
            return False
        try:
            if type is ResourceType.VM:
                self._api("ec2", "TerminateInstances", {"InstanceIds": [external_id]}, f"terminate {external_id}")
            elif type is ResourceType.NETWORK:
                for subnet in self._subnets(external_id).values():
                    self._api("ec2", "DeleteSubnet", {"SubnetId": subnet}, f"delete subnet {subnet}")
                self._api("ec2", "DeleteVpc", {"VpcId": external_id}, f"delete VPC {external_id}")
            elif external_id.startswith("vol-"):
                self._api("ec2", "DeleteVolume", {"VolumeId": external_id}, f"delete volume {external_id}")
            else:
                self._api("s3", "DeleteBucket", {"Bucket": external_id}, f"delete bucket {external_id}")
        except NotFound:
            return True
        return self.observe(type, external_id) is None

    # ------------------------------------------------------------------ per type

    def _arn(self, service: str, resource: str, owner: str | None = None) -> str:
        account = owner or self._account or ""
        return f"arn:aws:{service}:{self._region}:{account}:{resource}"

    def _instance(self, item: Mapping[str, Any]) -> ProvisionedResource:
        ident = str(item["InstanceId"])
        state = str(item.get("State", {}).get("Name", "pending"))
        tags = _tag_map(item.get("Tags"))
        outputs = {
            "instance_id": ident,
            "private_ip": str(item.get("PrivateIpAddress") or ""),
            "public_ip": str(item.get("PublicIpAddress") or ""),
            "availability_zone": str(item.get("Placement", {}).get("AvailabilityZone", "")),
            "arn": self._arn("ec2", f"instance/{ident}"),
            "state": state,
        }
        groups = ",".join(sorted(str(g["GroupId"]) for g in item.get("SecurityGroups") or ()))
        managed = {"size": str(item.get("InstanceType", "")), "securityGroups": groups, **_user_tags(tags)}
        return ProvisionedResource(
            ident, _INSTANCE_STATES.get(state, ProvisionState.DELETING), outputs, managed, f"instance {state}"
        )

    def _volume(self, item: Mapping[str, Any]) -> ProvisionedResource:
        ident, state = str(item["VolumeId"]), str(item.get("State", "creating"))
        outputs = {
            "volume_id": ident,
            "availability_zone": str(item.get("AvailabilityZone", "")),
            "size_gb": str(item.get("Size", "")),
            "arn": self._arn("ec2", f"volume/{ident}"),
        }
        managed = {"sizeGb": str(item.get("Size", "")), **_user_tags(_tag_map(item.get("Tags")))}
        return ProvisionedResource(
            ident, _VOLUME_STATES.get(state, ProvisionState.DELETING), outputs, managed, f"volume {state}"
        )

    def _subnets(self, vpc_id: str) -> dict[str, str]:
        """Subnet Name tag -> subnet id of a VPC."""
        filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
        answer = self._api("ec2", "DescribeSubnets", {"Filters": filters}, f"subnets of {vpc_id}")
        found = {}
        for subnet in answer.get("Subnets") or ():
            name = _tag_map(subnet.get("Tags")).get("Name", subnet["SubnetId"])
            found[f"{name}={subnet['CidrBlock']}"] = str(subnet["SubnetId"])
        return found

    def _ensure_subnets(self, request: ProvisionRequest, vpc_id: str, existing: Mapping[str, str]) -> None:
        """Create the subnets the request names that the VPC lacks; a changed or removed one is refused."""
        wanted = _strings(request.settings, "subnets")
        extra = sorted(set(existing) - set(wanted))
        if extra:
            raise InvalidRequest(
                f"network.subnets: removing or changing subnets ({', '.join(extra)}) is not done in place; "
                "put them back or create a new CloudResource"
            )
        for entry in wanted:
            if entry in existing:
                continue
            name, _, cidr = str(entry).partition("=")
            tags = [{"Key": "Name", "Value": name}, {"Key": OWNER_TAG_KEY, "Value": request.owner_tag}]
            args = {"VpcId": vpc_id, "CidrBlock": cidr, "TagSpecifications": [{"ResourceType": "subnet", "Tags": tags}]}
            self._api("ec2", "CreateSubnet", args, f"create subnet {name} in {vpc_id}")

    def _vpc(self, item: Mapping[str, Any]) -> ProvisionedResource:
        ident, state = str(item["VpcId"]), str(item.get("State", "pending"))
        self._account = self._account or item.get("OwnerId")
        subnets = self._subnets(ident)
        outputs = {
            "vpc_id": ident,
            "cidr": str(item.get("CidrBlock", "")),
            "arn": self._arn("ec2", f"vpc/{ident}", item.get("OwnerId")),
            **{f"subnet_{key.partition('=')[0]}": value for key, value in subnets.items()},
        }
        managed = {
            "cidr": str(item.get("CidrBlock", "")),
            "subnets": ",".join(sorted(subnets)),
            **_user_tags(_tag_map(item.get("Tags"))),
        }
        active = ProvisionState.ACTIVE if state == "available" else ProvisionState.CREATING
        return ProvisionedResource(ident, active, outputs, managed, f"VPC {state}")

    def _bucket_tags(self, name: str) -> dict[str, str]:
        try:
            answer = self._api("s3", "GetBucketTagging", {"Bucket": name}, f"tags of bucket {name}")
        except NotFound:
            return {}
        return _tag_map(answer.get("TagSet"))

    def _bucket(self, name: str) -> ProvisionedResource | None:
        try:
            self._api("s3", "HeadBucket", {"Bucket": name}, f"observe bucket {name}")
        except NotFound:
            return None
        tags = self._bucket_tags(name)
        outputs = {"bucket": name, "arn": f"arn:aws:s3:::{name}", "region": self._region}
        managed = {"owner": tags.get(OWNER_TAG_KEY, ""), **_user_tags(tags)}
        return ProvisionedResource(name, ProvisionState.ACTIVE, outputs, managed, "bucket exists")

    def _create_bucket(self, request: ProvisionRequest) -> ProvisionedResource:
        args: dict[str, Any] = {"Bucket": request.name}
        if self._region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        try:
            self._api("s3", "CreateBucket", args, f"create bucket {request.name}")
        except Conflict as error:  # BucketAlreadyOwnedByYou: an earlier attempt of ours made it
            if "OwnedByYou" not in error.message:
                raise
        tagging = {"TagSet": _tags(request)}
        self._api("s3", "PutBucketTagging", {"Bucket": request.name, "Tagging": tagging}, "tag bucket")
        found = self._bucket(request.name)
        if found is None:
            raise NotFound(f"bucket {request.name} vanished right after it was created")
        return found


def provisioner(params: AwsConnectionParams, *, max_concurrency: int = 4) -> ResourceProvisioner:
    """The CloudResource provisioner of one AWS account and region (the CloudCredential's connection parameters;
    a CloudResource with its own ``region`` gets params with that region)."""
    limiter = threading.BoundedSemaphore(max_concurrency)
    return AwsProvisioner(Boto3Backend(params, limiter=limiter, pool_size=max_concurrency))
