//! `spec.onboarding`: the Connected Machine agent's commands that connect a server to Azure Arc
//! through this scope ("Connect to an Azure Arc-enabled server" in the documentation), for
//! Linux (bash) and Windows (PowerShell), with the documentation's notes. Pure text: the
//! controller writes it into a ConfigMap, `plan`/`apply` print it.
//!
//! The service principal's id and secret are placeholders (or read from the environment of the
//! server running the script): arclink never writes a secret.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kube::ResourceExt;
use serde::Serialize;

use super::quote::{ps, sh};
use crate::api::ArcPrivateLinkScope;
use crate::azure::{KnownCloud, names};
use crate::printable::one_line;
use crate::reconcile::Settings;
use crate::reconcile::drift::normalize_location;

/// ConfigMap key of the Linux script.
pub const LINUX_KEY: &str = "connect-linux.sh";
/// ConfigMap key of the Windows script.
pub const WINDOWS_KEY: &str = "connect-windows.ps1";
/// ConfigMap key of the notes.
pub const README_KEY: &str = "README.md";

/// What replaces the service principal's application (client) id.
pub const SERVICE_PRINCIPAL_ID: &str = "<service-principal-id>";
/// What replaces the service principal's secret.
pub const SERVICE_PRINCIPAL_SECRET: &str = "<service-principal-secret>";
/// What stands for the tenant when arclink could not read it from Azure.
pub const TENANT_ID: &str = "<tenant-id>";

/// The documentation's notes for `c`'s cloud (its Entra ID and ARM hosts from the cloud table),
/// in the scripts' comments and the README.
pub fn notes(c: &Connect) -> [String; 4] {
    let public = match KnownCloud::by_agent_name(&c.cloud) {
        Some(cloud) => format!(
            "Traffic to Microsoft Entra ID ({}) and Azure Resource Manager ({})",
            cloud.row().agent_entra_hosts.value.join(", "),
            cloud.arm_host()
        ),
        None => "Traffic to Microsoft Entra ID and Azure Resource Manager".to_string(),
    };
    [
        "Using a private endpoint requires the Azure Connected Machine agent version 1.4 or later.".to_string(),
        format!(
            "{public} still goes to their public endpoints: allow outbound TCP 443 to the AzureActiveDirectory and AzureResourceManager service tags. If the server needs a proxy to reach them, configure the agent with it before connecting (azcmagent config set proxy.url \"http://proxy:port\")."
        ),
        "If the Arc private endpoints are not reachable from that proxy, configure a proxy bypass for the Arc services (azcmagent config set proxy.bypass \"Arc\").".to_string(),
        "The server must resolve the Azure Arc names to the private endpoint's addresses (DNS forwarding, or the hosts-file lines of an ArcPrivateEndpoint's dnsExport ConfigMap).".to_string(),
    ]
}

/// The values of the connect command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connect {
    /// `namespace/name` of the scope object.
    pub object: String,
    pub subscription_id: String,
    pub resource_group: String,
    /// The scope's region (servers connect only to a scope in their own region).
    pub location: String,
    /// `None` when arclink could not read it from Azure.
    pub tenant_id: Option<String>,
    /// `azcmagent connect --cloud`.
    pub cloud: String,
    /// The scope's ARM id (`--private-link-scope`).
    pub private_link_scope: String,
}

impl Connect {
    /// The values for `obj`: its `spec.onboarding` (machines' subscription and resource group,
    /// defaulting to the scope's), its region, the tenant in its status, the cloud in
    /// `settings`. Each is checked by Azure's rules before it reaches a script: `Err` names the
    /// object and the field (also when the scope's id is not known). A tenant that is not a
    /// GUID (it is read from ARM) becomes the placeholder.
    pub fn of(obj: &ArcPrivateLinkScope, settings: &Settings) -> Result<Connect, String> {
        let object = format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any());
        let fail = |e: String| format!("ArcPrivateLinkScope {object}: onboarding: {e}");
        let id = super::scope_id(obj, settings).map_err(fail)?;
        let onboarding = obj.spec.onboarding.as_ref();
        let scope_group = id.resource_group().unwrap_or_default();
        check(id.subscription(), SCOPE_SUBSCRIPTION, names::is_guid, GUID).map_err(fail)?;
        check(scope_group, SCOPE_GROUP, names::is_resource_group, GROUP).map_err(fail)?;
        check(id.name(), SCOPE_NAME, names::is_resource_name, NAME).map_err(fail)?;
        let subscription_id = match onboarding.and_then(|o| o.subscription_id.as_deref()) {
            Some(s) => check(s, "spec.onboarding.subscriptionId", names::is_guid, GUID),
            None => Ok(id.subscription()),
        }
        .map_err(fail)?;
        let resource_group = match onboarding.and_then(|o| o.resource_group.as_deref()) {
            Some(g) => check(
                g,
                "spec.onboarding.resourceGroup",
                names::is_resource_group,
                GROUP,
            ),
            None => Ok(scope_group),
        }
        .map_err(fail)?;
        let location = normalize_location(&obj.spec.location);
        check(&location, "spec.location", names::is_region, REGION).map_err(fail)?;
        check(&settings.agent_cloud, "--cloud", is_agent_cloud, CLOUD).map_err(fail)?;
        Ok(Connect {
            subscription_id: subscription_id.to_string(),
            resource_group: resource_group.to_string(),
            location,
            tenant_id: obj
                .status
                .as_ref()
                .and_then(|s| s.tenant_id.clone())
                .filter(|t| names::is_guid(t)),
            cloud: settings.agent_cloud.clone(),
            private_link_scope: id.to_string(),
            object,
        })
    }

    fn tenant(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or(TENANT_ID)
    }
}

const SCOPE_SUBSCRIPTION: &str = "spec.azure.subscriptionId (or --default-subscription)";
const SCOPE_GROUP: &str = "spec.azure.resourceGroup";
const SCOPE_NAME: &str = "spec.azure.name (or metadata.name)";
const GUID: &str = "is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)";
const GROUP: &str = "is not a resource group name (1-90 letters, digits, '-', '.', '_', '(' or ')', not ending with '.')";
const NAME: &str = "is not an Azure resource name (1-64 letters, digits, '_', '.' or '-')";
const REGION: &str = "is not an Azure region (letters and digits, e.g. eastus)";
const CLOUD: &str = "is not a cloud of the Connected Machine agent (AzureCloud, AzureUSGovernment, AzureChinaCloud)";

/// `value` of `field` when `valid`, else an error naming both (the value escaped).
fn check<'a>(
    value: &'a str,
    field: &str,
    valid: impl Fn(&str) -> bool,
    rule: &str,
) -> Result<&'a str, String> {
    if valid(value) {
        Ok(value)
    } else {
        Err(format!("{field} {value:?} {rule}"))
    }
}

fn is_agent_cloud(name: &str) -> bool {
    KnownCloud::by_agent_name(name).is_some()
}

/// The ConfigMap data: both scripts and the README.
pub fn config_map_data(c: &Connect) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LINUX_KEY.to_string(), linux(c)),
        (WINDOWS_KEY.to_string(), windows(c)),
        (README_KEY.to_string(), readme(c)),
    ])
}

/// The comment block at the top of both scripts.
fn header(c: &Connect, comment: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{comment} Connects this server to Azure Arc through the Azure Arc Private Link Scope"
    );
    let _ = writeln!(out, "{comment}   {}", one_line(&c.private_link_scope));
    let _ = writeln!(
        out,
        "{comment} Generated by arclink from ArcPrivateLinkScope {}; see README.md next to it.",
        one_line(&c.object)
    );
    let _ = writeln!(out, "{comment}");
    let _ = writeln!(
        out,
        "{comment} Set SERVICE_PRINCIPAL_ID and SERVICE_PRINCIPAL_SECRET in the environment (or replace"
    );
    let _ = writeln!(
        out,
        "{comment} the placeholders below) with the onboarding service principal's application id and"
    );
    let _ = writeln!(
        out,
        "{comment} secret. arclink never writes the secret; keep it out of version control."
    );
    if c.tenant_id.is_none() {
        let _ = writeln!(
            out,
            "{comment} arclink could not read the tenant of subscription {} from Azure: replace",
            one_line(&c.subscription_id)
        );
        let _ = writeln!(
            out,
            "{comment} {TENANT_ID} with your Microsoft Entra tenant id."
        );
    }
    let _ = writeln!(out, "{comment}");
    for note in notes(c) {
        let _ = writeln!(out, "{comment} - {note}");
    }
    out
}

/// The bash script.
pub fn linux(c: &Connect) -> String {
    let mut out = String::from("#!/usr/bin/env bash\n");
    out.push_str(&header(c, "#"));
    let _ = write!(
        out,
        r#"set -euo pipefail

SERVICE_PRINCIPAL_ID="${{SERVICE_PRINCIPAL_ID:-{SERVICE_PRINCIPAL_ID}}}"
SERVICE_PRINCIPAL_SECRET="${{SERVICE_PRINCIPAL_SECRET:-{SERVICE_PRINCIPAL_SECRET}}}"
TENANT_ID={tenant}

case "$SERVICE_PRINCIPAL_ID $SERVICE_PRINCIPAL_SECRET $TENANT_ID" in
  *'<'*) echo "replace the placeholders (service principal id, secret, tenant id) first" >&2; exit 1 ;;
esac

azcmagent connect \
  --service-principal-id "$SERVICE_PRINCIPAL_ID" \
  --service-principal-secret "$SERVICE_PRINCIPAL_SECRET" \
  --resource-group {rg} \
  --tenant-id "$TENANT_ID" \
  --location {location} \
  --subscription-id {subscription} \
  --cloud {cloud} \
  --private-link-scope {scope}
"#,
        tenant = sh(c.tenant()),
        rg = sh(&c.resource_group),
        location = sh(&c.location),
        subscription = sh(&c.subscription_id),
        cloud = sh(&c.cloud),
        scope = sh(&c.private_link_scope),
    );
    out
}

/// The PowerShell script.
pub fn windows(c: &Connect) -> String {
    let mut out = header(c, "#");
    let _ = write!(
        out,
        r#"$ErrorActionPreference = 'Stop'

$servicePrincipalId = if ($env:SERVICE_PRINCIPAL_ID) {{ $env:SERVICE_PRINCIPAL_ID }} else {{ '{SERVICE_PRINCIPAL_ID}' }}
$servicePrincipalSecret = if ($env:SERVICE_PRINCIPAL_SECRET) {{ $env:SERVICE_PRINCIPAL_SECRET }} else {{ '{SERVICE_PRINCIPAL_SECRET}' }}
$tenantId = {tenant}

if ("$servicePrincipalId $servicePrincipalSecret $tenantId".Contains('<')) {{
    throw 'replace the placeholders (service principal id, secret, tenant id) first'
}}

& "$env:ProgramW6432\AzureConnectedMachineAgent\azcmagent.exe" connect `
    --service-principal-id $servicePrincipalId `
    --service-principal-secret $servicePrincipalSecret `
    --resource-group {rg} `
    --tenant-id $tenantId `
    --location {location} `
    --subscription-id {subscription} `
    --cloud {cloud} `
    --private-link-scope {scope}
if ($LASTEXITCODE -ne 0) {{
    throw "azcmagent connect failed with exit code $LASTEXITCODE"
}}
"#,
        tenant = ps(c.tenant()),
        rg = ps(&c.resource_group),
        location = ps(&c.location),
        subscription = ps(&c.subscription_id),
        cloud = ps(&c.cloud),
        scope = ps(&c.private_link_scope),
    );
    out
}

/// The README: what the scripts do, with which values, and the notes.
pub fn readme(c: &Connect) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Connect servers to Azure Arc through a private link scope\n"
    );
    let _ = writeln!(
        out,
        "Generated by arclink from ArcPrivateLinkScope {}. Run `{LINUX_KEY}` (bash, as root) or `{WINDOWS_KEY}` (PowerShell, as Administrator) on a server with the Azure Connected Machine agent installed: it runs `azcmagent connect` with the private endpoint connectivity method.\n",
        one_line(&c.object)
    );
    let _ = writeln!(out, "| `azcmagent connect` flag | value |");
    let _ = writeln!(out, "|---|---|");
    for (flag, value) in [
        ("--service-principal-id", SERVICE_PRINCIPAL_ID),
        ("--service-principal-secret", SERVICE_PRINCIPAL_SECRET),
        ("--resource-group", c.resource_group.as_str()),
        ("--tenant-id", c.tenant()),
        ("--location", c.location.as_str()),
        ("--subscription-id", c.subscription_id.as_str()),
        ("--cloud", c.cloud.as_str()),
        ("--private-link-scope", c.private_link_scope.as_str()),
    ] {
        let _ = writeln!(out, "| `{flag}` | `{}` |", one_line(value));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "The service principal's id and secret are placeholders: set SERVICE_PRINCIPAL_ID and SERVICE_PRINCIPAL_SECRET in the environment of the script, or replace them. arclink never writes the secret. A secret on the command line can show in process listings; azcmagent can also read the service principal from a configuration file (`--config`)."
    );
    if c.tenant_id.is_none() {
        let _ = writeln!(
            out,
            "\narclink could not read the tenant of subscription {} from Azure: replace `{TENANT_ID}` with your Microsoft Entra tenant id.",
            one_line(&c.subscription_id)
        );
    }
    let _ = writeln!(out, "\nNotes:\n");
    for note in notes(c) {
        let _ = writeln!(out, "- {note}");
    }
    out
}

#[cfg(test)]
mod tests;
