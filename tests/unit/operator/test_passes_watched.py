"""Every polling kind's pass works on the object as the watch delivered it (``watched``) and checks its
references from the in-memory indexes: a broken reference is a ``BackOff`` with no apiserver read at all
(neither its own object, nor the credential, nor a Secret), and a pass over an object whose last status
write the watch already delivered makes no GET of it. Only when the watched copy is older than this
process's own last status write does a pass read the object once (``polling.own_object``).

The operator's real ``KubeClient`` runs over in-memory stand-ins of the two Kubernetes API classes it uses
(recording every call), installed as the process-wide client the handlers take.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import kopf
import pytest
import yaml
from daytwo.crds.kinds import by_kind
from daytwo.operator import kube
from daytwo.operator.handlers import aggregatemigration, cloudresource, proxmoxnode
from daytwo.operator.handlers.cloudcredential import daemon as cloudcredential
from daytwo.operator.handlers.polling import BackOff, PassInputs, own_object
from daytwo.operator.handlers.references_index import (
    CREDENTIALS_INDEX,
    READY_INDEX,
    SECRETS_INDEX,
    own_secrets_check,
    reference_check,
    secrets_of,
)
from daytwo.operator.handlers.restorejob import job as restorejob
from daytwo.operator.handlers.snapshotpolicy import passes as snapshotpolicy
from daytwo.operator.handlers.users_index import INDEX_ID
from daytwo.operator.kube import KubeClient
from daytwo.operator.settings import OperatorSettings
from kopf._core.engines import posting
from kubernetes.client.exceptions import ApiException

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NS = "daytwo-examples"
SETTINGS = OperatorSettings()
LOG = logging.getLogger("test")
Key = tuple[str, str, str]


class FakeCustomObjects:
    """``CustomObjectsApi`` over a dict of objects: every call recorded, status patches merged with a new
    resourceVersion (as the apiserver answers them)."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects: dict[Key, dict[str, Any]] = {
            (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"]): obj for obj in objects
        }
        self.calls: list[tuple[str, str, str]] = []
        self.version = 100

    def _key(self, plural: str, namespace: str, name: str) -> Key:
        return next(k for k in self.objects if by_kind(k[0]).info.plural == plural and k[1:] == (namespace, name))

    def get_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str, name: str) -> Any:
        self.calls.append(("get", plural, name))
        try:
            return copy.deepcopy(self.objects[self._key(plural, namespace, name)])
        except StopIteration:
            raise ApiException(status=404) from None

    def list_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str, **_: Any) -> Any:
        self.calls.append(("list", plural, ""))
        return {"items": [copy.deepcopy(o) for k, o in self.objects.items() if by_kind(k[0]).info.plural == plural]}

    def patch_namespaced_custom_object_status(
        self, group: str, version: str, namespace: str, plural: str, name: str, body: dict[str, Any]
    ) -> Any:
        self.calls.append(("patch-status", plural, name))
        obj = self.objects[self._key(plural, namespace, name)]
        status = obj.setdefault("status", {})
        for field, value in body["status"].items():
            if value is None:
                status.pop(field, None)
            else:
                status[field] = copy.deepcopy(value)
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        return copy.deepcopy(obj)


class FakeCore:
    """``CoreV1Api`` with no Secrets and no ConfigMaps: every call recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def read_namespaced_secret(self, name: str, namespace: str) -> Any:
        self.calls.append(("read-secret", name))
        raise ApiException(status=404)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, ""))
            raise ApiException(status=404)

        return call


class Api:
    """The stand-ins behind the real KubeClient."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.custom, self.core = FakeCustomObjects(objects), FakeCore()
        client = KubeClient.__new__(KubeClient)
        KubeClient.__init__(client, cast(Any, None))
        client._custom, client._core = cast(Any, self.custom), cast(Any, self.core)
        self.client = client

    def gets(self) -> list[tuple[str, str, str]]:
        """Reads of daytwo objects (GET and LIST)."""
        return [call for call in self.custom.calls if call[0] in ("get", "list")]

    def delivered(self, kind: str, name: str) -> dict[str, Any]:
        """The object as the watch delivers it now."""
        return copy.deepcopy(self.custom.objects[(kind, NS, name)])


@pytest.fixture
def events() -> Iterator[asyncio.Queue[Any]]:
    """Kopf's event queue, so passes can post Events (Ready flips) outside a running operator."""
    loop, queue = asyncio.new_event_loop(), asyncio.Queue[Any]()
    settings = posting.settings_var.set(kopf.OperatorSettings())
    tokens = posting.event_queue_loop_var.set(loop), posting.event_queue_var.set(queue)
    yield queue
    posting.event_queue_var.reset(tokens[1])
    posting.event_queue_loop_var.reset(tokens[0])
    posting.settings_var.reset(settings)
    loop.close()


def example(path: str, kind: str) -> dict[str, Any]:
    """The ``kind`` object of an example file, with what the apiserver adds."""
    obj = next(doc for doc in yaml.safe_load_all((EXAMPLES / path).read_text()) if doc and doc["kind"] == kind)
    obj["metadata"].update(uid=f"uid-{kind.lower()}", generation=1, resourceVersion="1")
    obj["metadata"]["namespace"] = NS
    return cast(dict[str, Any], obj)


def no_indexed_references() -> dict[str, Any]:
    """Indexes as Kopf passes them when neither the credential nor any Secret exists."""
    return {CREDENTIALS_INDEX: {}, READY_INDEX: {}, SECRETS_INDEX: {}, INDEX_ID: {}}


def user_pass(kind: str, obj: dict[str, Any], api: Api) -> Callable[[], float]:
    """One pass of a user kind over ``obj`` (as the watch delivered it), built as its daemon builds it."""
    name, body = obj["metadata"]["name"], cast(kopf.Body, obj)
    indexes = no_indexed_references()
    kwargs = {"body": body, "namespace": NS, "name": name, "logger": LOG, "watched": obj, **indexes}
    if kind == "SnapshotPolicy":
        problem = reference_check(kind, NS, obj["spec"], indexes)
        one = snapshotpolicy.PolicyPass(PassInputs.of(kwargs), SETTINGS, problem)
        return lambda: one.run(SETTINGS)
    if kind == "RestoreJob":
        return restorejob.Pass(kwargs, SETTINGS).run
    if kind == "AggregateMigration":
        problem = reference_check(kind, NS, obj["spec"], indexes)
        return aggregatemigration.Pass(PassInputs.of(kwargs), SETTINGS, api.client, problem).run
    return cloudresource.Pass(PassInputs.of(kwargs), SETTINGS).run


USERS = [
    ("SnapshotPolicy", "snapshotpolicy.yaml"),
    ("RestoreJob", "restorejob.yaml"),
    ("AggregateMigration", "aggregatemigration.yaml"),
    ("CloudResource", "cloudresource.yaml"),
]


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[dict[str, Any]]], Api]:
    """Install an Api as the process-wide KubeClient the handlers use."""

    def install(objects: list[dict[str, Any]]) -> Api:
        api = Api(objects)
        monkeypatch.setattr(kube, "_reader", api.client)
        return api

    return install


@pytest.mark.parametrize(("kind", "path"), USERS)
def test_a_user_whose_credential_is_missing_backs_off_without_reading_anything(
    kind: str, path: str, installed: Callable[[list[dict[str, Any]]], Api], events: asyncio.Queue[Any]
) -> None:
    obj = example(path, kind)
    api = installed([copy.deepcopy(obj)])
    delay = user_pass(kind, copy.deepcopy(obj), api)()
    assert isinstance(delay, BackOff), f"{kind}: a broken reference backs off exponentially"
    ready = next(
        c
        for c in api.custom.objects[(kind, NS, obj["metadata"]["name"])]["status"]["conditions"]
        if c["type"] == "Ready"
    )
    assert (ready["status"], ready["reason"]) == ("False", "CredentialsNotFound")
    # the next pass starts from the object as the watch delivered the first pass's writes: nothing is read
    again = user_pass(kind, api.delivered(kind, obj["metadata"]["name"]), api)()
    assert isinstance(again, BackOff)
    assert api.gets() == [], f"{kind}: no GET of its own object, nor of the credential"
    assert api.core.calls == [], f"{kind}: no Secret read"


def test_a_proxmoxnode_whose_secret_is_missing_backs_off_without_reading_it(
    installed: Callable[[list[dict[str, Any]]], Api], events: asyncio.Queue[Any]
) -> None:
    node = example("proxmoxnode.yaml", "ProxmoxNode")
    api = installed([copy.deepcopy(node)])
    reasons = []
    for _ in range(2):
        watched = api.delivered("ProxmoxNode", "pve-lab")
        problem = own_secrets_check("ProxmoxNode", NS, watched["spec"], no_indexed_references())
        inputs = PassInputs(cast(kopf.Body, watched), NS, "pve-lab", LOG, watched, {"wake": asyncio.Event()})
        cycle = proxmoxnode.Cycle(inputs, problem)
        assert isinstance(cycle.run(SETTINGS), BackOff)
        conditions = api.custom.objects[("ProxmoxNode", NS, "pve-lab")]["status"]["conditions"]
        reasons.append(next(c["reason"] for c in conditions if c["type"] == "Connected"))
    assert reasons == ["CredentialsNotFound", "CredentialsNotFound"]
    assert api.gets() == [] and api.core.calls == [], "neither the node nor its Secret is read"


def test_a_cloudcredential_whose_secret_is_missing_backs_off_without_reading_it(
    installed: Callable[[list[dict[str, Any]]], Api], events: asyncio.Queue[Any]
) -> None:
    credential = example("cloudcredential-openstack.yaml", "CloudCredential")
    api = installed([copy.deepcopy(credential)])
    memory = cloudcredential.Memory()
    for _ in range(2):
        watched = api.delivered("CloudCredential", "openstack-prod")
        cycle = cloudcredential.Cycle(cast(kopf.Body, watched), NS, "openstack-prod", memory, SETTINGS)
        cycle.watched = watched
        cycle.secrets = secrets_of("CloudCredential", NS, watched["spec"], no_indexed_references())
        assert isinstance(cycle.run(), BackOff)
    conditions = api.custom.objects[("CloudCredential", NS, "openstack-prod")]["status"]["conditions"]
    assert next(c["reason"] for c in conditions if c["type"] == "Validated") == "SecretNotFound"
    assert api.gets() == [] and api.core.calls == [], "neither the credential nor its Secret is read"


def test_own_object_reads_only_while_the_watch_lags_behind_this_process_s_own_write(
    installed: Callable[[list[dict[str, Any]]], Api],
) -> None:
    policy = example("snapshotpolicy.yaml", "SnapshotPolicy")
    api = installed([copy.deepcopy(policy)])
    name = policy["metadata"]["name"]
    assert own_object(api.client, api.delivered("SnapshotPolicy", name)) is not None
    assert api.gets() == [], "nothing written yet: the watched copy is current"
    before = api.delivered("SnapshotPolicy", name)
    api.client.patch_status("SnapshotPolicy", NS, name, {"currentRun": {"id": "run-1"}})
    lagging = own_object(api.client, before)
    assert api.gets() == [("get", "snapshotpolicies", name)], "the watch has not delivered the write: one GET"
    assert lagging is not None and lagging["status"]["currentRun"] == {"id": "run-1"}
    assert own_object(api.client, api.delivered("SnapshotPolicy", name)) is not None
    assert own_object(api.client, api.delivered("SnapshotPolicy", name)) is not None
    assert len(api.gets()) == 1, "once the watch delivered it, passes read nothing"
