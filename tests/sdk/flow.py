"""Drives `arclink emulator` with Microsoft's Python SDK through arclink's whole flow.

Run by tests/sdk/run.sh, which starts the emulator and sets ARM_ENDPOINT, AZURE_TENANT_ID,
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, SUBSCRIPTION and REQUESTS_CA_BUNDLE (the emulator's CA).
Each step prints `ok <step> (<ms> ms)`; the first failure ends the run with its traceback.
"""

import os
import sys
import time
import traceback

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.core.rest import HttpRequest
from azure.identity import ClientSecretCredential
from azure.mgmt.hybridcompute import HybridComputeManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

ENDPOINT = os.environ["ARM_ENDPOINT"]
SUB = os.environ["SUBSCRIPTION"]
ZONE = "privatelink.his.arc.azure.com"
STEPS = []


def step(name):
    def wrap(fn):
        STEPS.append((name, fn))
        return fn

    return wrap


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


credential = ClientSecretCredential(
    os.environ["AZURE_TENANT_ID"],
    os.environ["AZURE_CLIENT_ID"],
    os.environ["AZURE_CLIENT_SECRET"],
    authority=ENDPOINT,
    # The emulator is not a cloud MSAL knows: no instance discovery at login.microsoftonline.com.
    disable_instance_discovery=True,
)
CLIENT = dict(base_url=ENDPOINT, credential_scopes=["https://management.azure.com/.default"])
hc = HybridComputeManagementClient(credential, SUB, **CLIENT)
network = NetworkManagementClient(credential, SUB, **CLIENT)
dns = PrivateDnsManagementClient(credential, SUB, **CLIENT)
resources = ResourceManagementClient(credential, SUB, **CLIENT)
state = {}


def vnet_id():
    return f"/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet1"


def rule(priority, direction="Outbound"):
    return {
        "properties": {
            "protocol": "Tcp",
            "sourcePortRange": "*",
            "destinationPortRange": "443",
            "sourceAddressPrefix": "VirtualNetwork",
            "destinationAddressPrefix": "AzureActiveDirectory",
            "access": "Allow",
            "priority": priority,
            "direction": direction,
        }
    }


@step("MSAL login (client secret, the emulator's token endpoint)")
def login():
    token = credential.get_token("https://management.azure.com/.default")
    expect(token.token.count(".") == 2, "a JWT")


@step("subscriptions and tenants (Subscriptions_List, Tenants_List)")
def subscriptions():
    for path, key in [("/subscriptions", "subscriptionId"), ("/tenants", "tenantId")]:
        r = resources._client.send_request(HttpRequest("GET", f"{ENDPOINT}{path}?api-version=2022-12-01"))
        r.raise_for_status()
        expect(r.json()["value"][0][key], f"{path} lists {key}")


@step("resource provider (Providers_Get) and resource group")
def provider():
    p = resources.providers.get("Microsoft.HybridCompute")
    scopes = [t for t in p.resource_types if t.resource_type == "privateLinkScopes"][0]
    expect("2026-09-01" in scopes.api_versions, "HybridCompute versions")
    expect(resources.resource_groups.get("rg1").location == "westeurope", "rg1")


@step("scope create, list, tags")
def scope():
    s = hc.private_link_scopes.create_or_update(
        "rg1", "sdk-scope", {"location": "westeurope", "properties": {"publicNetworkAccess": "Disabled"}}
    )
    state["scope"] = s.id
    expect([x.name for x in hc.private_link_scopes.list_by_resource_group("rg1")] == ["sdk-scope"], "listed")
    t = hc.private_link_scopes.update_tags("rg1", "sdk-scope", {"tags": {"owner": "sdk"}})
    expect(t.tags == {"owner": "sdk"}, "tags")


@step("paged machine list (page size 2)")
def machines():
    names = [m.name for m in hc.machines.list_by_resource_group("rg1")]
    expect(len(names) == 5, f"5 machines over 3 pages, got {names}")
    m = hc.machines.get("rg1", "web-01")
    expect(m.identity.principal_id and m.identity.tenant_id, "the machine's identity")


@step("machine PATCH (tags, private link scope)")
def machine_patch():
    m = hc.machines.update(
        "rg1", "web-01", {"tags": {"arc": "yes"}, "properties": {"privateLinkScopeResourceId": state["scope"]}}
    )
    expect(m.tags == {"arc": "yes"}, "tags")
    expect(m.properties.private_link_scope_resource_id.lower() == state["scope"].lower(), "scope")


@step("private endpoint create (long-running operation)")
def endpoint():
    subnet = f"{vnet_id()}/subnets/endpoints"
    pe = network.private_endpoints.begin_create_or_update(
        "net",
        "sdk-pe",
        {
            "location": "westeurope",
            "properties": {
                "subnet": {"id": subnet},
                "privateLinkServiceConnections": [
                    {"name": "arc", "properties": {"privateLinkServiceId": state["scope"], "groupIds": ["hybridcompute"]}}
                ],
            },
        },
    ).result()
    expect(pe.properties.provisioning_state == "Succeeded", "endpoint provisioned")
    state["pe"] = pe


@step("scope-side connection list")
def connections():
    conns = list(hc.private_endpoint_connections.list_by_private_link_scope("rg1", "sdk-scope"))
    expect(len(conns) == 1, "one connection")
    expect(conns[0].properties.private_link_service_connection_state.status == "Approved", "auto-approved")


@step("private DNS zone (If-None-Match: *), link, records, RecordSets_List")
def private_dns():
    create_only = dict(match_condition=MatchConditions.IfMissing)
    z = dns.private_zones.begin_create_or_update("net", ZONE, {"location": "global"}, **create_only).result()
    try:
        dns.private_zones.begin_create_or_update("net", ZONE, {"location": "global"}, **create_only).result()
        raise AssertionError("a second create-only PUT must fail")
    except ResourceExistsError as e:
        expect(e.status_code == 412, "412 PreconditionFailed")
    try:
        dns.private_zones.begin_update(
            "net", ZONE, {"tags": {"a": "b"}}, etag="stale", match_condition=MatchConditions.IfNotModified
        ).result()
        raise AssertionError("a stale If-Match must fail")
    except ResourceModifiedError as e:
        expect(e.status_code == 412, "412 on a stale etag")
    dns.private_zones.begin_update(
        "net", ZONE, {"tags": {"a": "b"}}, etag=z.etag, match_condition=MatchConditions.IfNotModified
    ).result()
    dns.virtual_network_links.begin_create_or_update(
        "net", ZONE, "vnet1-link", {"location": "global", "properties": {"virtualNetwork": {"id": vnet_id()}}},
        **create_only,
    ).result()
    dns.record_sets.create_or_update(
        "net", ZONE, "A", "extra", {"properties": {"ttl": 60, "aRecords": [{"ipv4Address": "10.0.1.250"}]}}
    )
    every = [r.name for r in dns.record_sets.list("net", ZONE)]
    a_only = [r.name for r in dns.record_sets.list_by_type("net", ZONE, "A")]
    expect(every == a_only == ["extra"], f"record sets {every} {a_only}")


@step("zone group writes the endpoint's records")
def zone_group():
    zone_id = f"/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/privateDnsZones/{ZONE}"
    g = network.private_dns_zone_groups.begin_create_or_update(
        "net", "sdk-pe", "default",
        {"properties": {"privateDnsZoneConfigs": [{"name": "his", "properties": {"privateDnsZoneId": zone_id}}]}},
    ).result()
    expect(g.properties.provisioning_state == "Succeeded", "zone group")
    names = sorted(r.name for r in dns.record_sets.list("net", ZONE))
    expect("gbl" in names and "westeurope" in names, f"records {names}")


@step("a second zone of the same name cannot be linked (BadRequest in the operation)")
def overlapping_zone():
    dns.private_zones.begin_create_or_update("hub", ZONE, {"location": "global"}).result()
    try:
        dns.virtual_network_links.begin_create_or_update(
            "hub", ZONE, "vnet1-link", {"location": "global", "properties": {"virtualNetwork": {"id": vnet_id()}}}
        ).result()
        raise AssertionError("the second link must fail")
    except HttpResponseError as e:
        expect("overlapping namespaces" in str(e), str(e))


def answered_429():
    """How many 429s the emulator has answered (its admin API)."""
    r = resources._client._pipeline._transport.session.get(
        f"{ENDPOINT}/_emulator/counters",
        headers={"Authorization": f"Bearer {os.environ['EMULATOR_ADMIN_TOKEN']}"},
    )
    r.raise_for_status()
    return r.json()["byStatus"].get("429", 0)


@step("security rules back to back (the group lock: azure-core retries the 429)")
def security_rules():
    before = answered_429()
    first = network.security_rules.begin_create_or_update("net", "nsg1", "sdk-rule-1", rule(150))
    second = network.security_rules.begin_create_or_update("net", "nsg1", "sdk-rule-2", rule(151))
    expect(answered_429() > before, "the second write met the group lock")
    expect(first.result().provisioning_state == "Succeeded", "first rule")
    expect(second.result().provisioning_state == "Succeeded", "second rule")
    names = sorted(r.name for r in network.security_rules.list("net", "nsg1"))
    expect(names == ["sdk-rule-1", "sdk-rule-2"], f"rules {names}")


@step("network security group PUT replaces its rules")
def nsg_put():
    g = network.network_security_groups.begin_create_or_update(
        "net", "nsg1",
        {"location": "westeurope", "properties": {"securityRules": [dict(name="inline", **rule(300, "Inbound"))]}},
    ).result()
    expect([r.name for r in g.security_rules] == ["inline"], "only the inline rule")


@step("generic resource list and the ARM error model")
def generic():
    types = sorted({r.type for r in resources.resources.list_by_resource_group("net")})
    expect("Microsoft.Network/privateEndpoints" in types, f"types {types}")
    try:
        network.private_endpoints.get("net", "absent")
        raise AssertionError("absent endpoint")
    except ResourceNotFoundError as e:
        expect(e.error.code == "ResourceNotFound", e.error.code)


@step("deletes (zone group, endpoint, link, zone, rule, scope)")
def deletes():
    network.private_dns_zone_groups.begin_delete("net", "sdk-pe", "default").result()
    network.private_endpoints.begin_delete("net", "sdk-pe").result()
    dns.virtual_network_links.begin_delete("net", ZONE, "vnet1-link").result()
    dns.record_sets.delete("net", ZONE, "A", "extra")
    dns.private_zones.begin_delete("net", ZONE).result()
    network.security_rules.begin_delete("net", "nsg1", "inline").result()
    hc.private_link_scopes.begin_delete("rg1", "sdk-scope").result()
    expect(list(hc.private_link_scopes.list_by_resource_group("rg1")) == [], "scope gone")


def main():
    started = time.monotonic()
    for name, fn in STEPS:
        t = time.monotonic()
        try:
            fn()
        except Exception:
            print(f"FAILED {name}", flush=True)
            traceback.print_exc()
            return 1
        print(f"ok {name} ({(time.monotonic() - t) * 1000:.0f} ms)", flush=True)
    print(f"sdk: {len(STEPS)} steps passed in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
