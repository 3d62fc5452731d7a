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

use crate::api::ArcPrivateLinkScope;
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

/// The documentation's notes, in the scripts' comments and the README.
pub const NOTES: [&str; 4] = [
    "Using a private endpoint requires the Azure Connected Machine agent version 1.4 or later.",
    "Traffic to Microsoft Entra ID (login.windows.net, login.microsoftonline.com, pas.windows.net) and Azure Resource Manager (management.azure.com) still goes to their public endpoints: allow outbound TCP 443 to the AzureActiveDirectory and AzureResourceManager service tags. If the server needs a proxy to reach them, configure the agent with it before connecting (azcmagent config set proxy.url \"http://proxy:port\").",
    "If the Arc private endpoints are not reachable from that proxy, configure a proxy bypass for the Arc services (azcmagent config set proxy.bypass \"Arc\").",
    "The server must resolve the Azure Arc names to the private endpoint's addresses (DNS forwarding, or the hosts-file lines of an ArcPrivateEndpoint's dnsExport ConfigMap).",
];

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
    /// `settings`. `Err` names the object and the field when the scope's id is not known.
    pub fn of(obj: &ArcPrivateLinkScope, settings: &Settings) -> Result<Connect, String> {
        let object = format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any());
        let id = super::scope_id(obj, settings)
            .map_err(|e| format!("ArcPrivateLinkScope {object}: onboarding: {e}"))?;
        let onboarding = obj.spec.onboarding.as_ref();
        Ok(Connect {
            subscription_id: onboarding
                .and_then(|o| o.subscription_id.clone())
                .unwrap_or_else(|| id.subscription().to_string()),
            resource_group: onboarding
                .and_then(|o| o.resource_group.clone())
                .unwrap_or_else(|| id.resource_group().unwrap_or_default().to_string()),
            location: normalize_location(&obj.spec.location),
            tenant_id: obj
                .status
                .as_ref()
                .and_then(|s| s.tenant_id.clone())
                .filter(|t| is_guid(t)),
            cloud: settings.agent_cloud.clone(),
            private_link_scope: id.to_string(),
            object,
        })
    }

    fn tenant(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or(TENANT_ID)
    }
}

/// Whether `s` is a GUID (a tenant id read from ARM is external data).
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The ConfigMap data: both scripts and the README.
pub fn config_map_data(c: &Connect) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LINUX_KEY.to_string(), linux(c)),
        (WINDOWS_KEY.to_string(), windows(c)),
        (README_KEY.to_string(), readme(c)),
    ])
}

/// `'...'` for bash.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `'...'` for PowerShell, which also ends single-quoted strings at the typographic quotes.
fn ps(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The comment block at the top of both scripts.
fn header(c: &Connect, comment: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{comment} Connects this server to Azure Arc through the Azure Arc Private Link Scope"
    );
    let _ = writeln!(out, "{comment}   {}", c.private_link_scope);
    let _ = writeln!(
        out,
        "{comment} Generated by arclink from ArcPrivateLinkScope {}; see README.md next to it.",
        c.object
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
            c.subscription_id
        );
        let _ = writeln!(
            out,
            "{comment} {TENANT_ID} with your Microsoft Entra tenant id."
        );
    }
    let _ = writeln!(out, "{comment}");
    for note in NOTES {
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
        c.object
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
        let _ = writeln!(out, "| `{flag}` | `{value}` |");
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
            c.subscription_id
        );
    }
    let _ = writeln!(out, "\nNotes:\n");
    for note in NOTES {
        let _ = writeln!(out, "- {note}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::scope::Onboarding;
    use crate::api::{ArcPrivateLinkScopeSpec, ArcPrivateLinkScopeStatus, AzureResource};

    const SCOPE: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/arc-scope";
    const TENANT: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    fn scope(onboarding: Onboarding, tenant: Option<&str>) -> ArcPrivateLinkScope {
        let mut obj = ArcPrivateLinkScope::new(
            "arc-scope",
            ArcPrivateLinkScopeSpec {
                azure: AzureResource {
                    subscription_id: Some("11111111-2222-3333-4444-555555555555".into()),
                    resource_group: "rg-arc".into(),
                    name: None,
                },
                location: "East US".into(),
                onboarding: Some(onboarding),
                ..Default::default()
            },
        );
        obj.metadata.namespace = Some("ns".into());
        obj.status = Some(ArcPrivateLinkScopeStatus {
            tenant_id: tenant.map(str::to_string),
            ..Default::default()
        });
        obj
    }

    fn onboarding() -> Onboarding {
        Onboarding {
            config_map_name: "arc-onboarding".into(),
            ..Default::default()
        }
    }

    /// The flags of the documentation's connect command, one per line, in the script.
    fn flags(script: &str) -> Vec<String> {
        script
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("--"))
            .map(|l| l.trim_end_matches(['\\', '`']).trim().to_string())
            .collect()
    }

    #[test]
    fn linux_command_uses_the_private_link_scope_and_placeholders() {
        let c = Connect::of(&scope(onboarding(), Some(TENANT)), &Settings::new("c")).unwrap();
        let script = linux(&c);
        assert!(script.starts_with("#!/usr/bin/env bash\n"));
        assert!(script.contains("\nazcmagent connect \\\n"), "{script}");
        assert_eq!(
            flags(&script),
            [
                "--service-principal-id \"$SERVICE_PRINCIPAL_ID\"",
                "--service-principal-secret \"$SERVICE_PRINCIPAL_SECRET\"",
                "--resource-group 'rg-arc'",
                "--tenant-id \"$TENANT_ID\"",
                "--location 'eastus'",
                "--subscription-id '11111111-2222-3333-4444-555555555555'",
                "--cloud 'AzureCloud'",
                &format!("--private-link-scope '{SCOPE}'"),
            ]
        );
        assert!(script.contains(&format!("TENANT_ID='{TENANT}'\n")));
        assert!(script.contains(
            "SERVICE_PRINCIPAL_ID=\"${SERVICE_PRINCIPAL_ID:-<service-principal-id>}\"\n"
        ));
        assert!(script.contains(
            "SERVICE_PRINCIPAL_SECRET=\"${SERVICE_PRINCIPAL_SECRET:-<service-principal-secret>}\"\n"
        ));
        for note in [
            "version 1.4 or later",
            "public endpoints",
            "proxy.bypass \"Arc\"",
        ] {
            assert!(script.contains(note), "{note}: {script}");
        }
        assert!(!script.contains("could not read the tenant"));
    }

    #[test]
    fn windows_command_runs_the_agent_with_the_same_values() {
        let c = Connect::of(&scope(onboarding(), Some(TENANT)), &Settings::new("c")).unwrap();
        let script = windows(&c);
        assert!(script.contains(
            "& \"$env:ProgramW6432\\AzureConnectedMachineAgent\\azcmagent.exe\" connect `\n"
        ));
        assert_eq!(
            flags(&script),
            [
                "--service-principal-id $servicePrincipalId",
                "--service-principal-secret $servicePrincipalSecret",
                "--resource-group 'rg-arc'",
                "--tenant-id $tenantId",
                "--location 'eastus'",
                "--subscription-id '11111111-2222-3333-4444-555555555555'",
                "--cloud 'AzureCloud'",
                &format!("--private-link-scope '{SCOPE}'"),
            ]
        );
        assert!(script.contains(&format!("$tenantId = '{TENANT}'\n")));
        assert!(script.contains("else { '<service-principal-secret>' }"));
        assert!(script.contains("$LASTEXITCODE"));
        for note in [
            "version 1.4 or later",
            "public endpoints",
            "proxy.bypass \"Arc\"",
        ] {
            assert!(script.contains(note), "{note}: {script}");
        }
    }

    #[test]
    fn machines_may_go_to_another_subscription_and_resource_group_in_another_cloud() {
        let o = Onboarding {
            config_map_name: "x".into(),
            subscription_id: Some("99999999-2222-3333-4444-555555555555".into()),
            resource_group: Some("rg-servers".into()),
        };
        let settings = Settings {
            agent_cloud: "AzureUSGovernment".into(),
            ..Settings::new("c")
        };
        let c = Connect::of(&scope(o, Some(TENANT)), &settings).unwrap();
        let f = flags(&linux(&c));
        assert!(
            f.contains(&"--resource-group 'rg-servers'".to_string()),
            "{f:?}"
        );
        assert!(
            f.contains(&"--subscription-id '99999999-2222-3333-4444-555555555555'".to_string())
        );
        assert!(f.contains(&"--cloud 'AzureUSGovernment'".to_string()));
        assert!(
            f.contains(&format!("--private-link-scope '{SCOPE}'")),
            "the scope stays in its own subscription"
        );
    }

    #[test]
    fn an_unknown_tenant_is_a_placeholder_that_the_scripts_refuse_to_run_with() {
        for tenant in [None, Some("not-a-guid; rm -rf /")] {
            let c = Connect::of(&scope(onboarding(), tenant), &Settings::new("c")).unwrap();
            assert_eq!(c.tenant_id, None);
            let sh = linux(&c);
            assert!(sh.contains("TENANT_ID='<tenant-id>'\n"), "{sh}");
            assert!(sh.contains("could not read the tenant of subscription"));
            assert!(
                sh.contains("*'<'*) echo"),
                "the script stops on a placeholder"
            );
            let ps = windows(&c);
            assert!(ps.contains("$tenantId = '<tenant-id>'\n"));
            assert!(ps.contains(".Contains('<')"));
            assert!(readme(&c).contains("replace `<tenant-id>`"));
            assert!(!sh.contains("rm -rf"));
        }
    }

    /// Runs the bash script with a stand-in `azcmagent` that prints its arguments: the values
    /// reach the agent as single arguments, placeholders stop the script.
    #[cfg(unix)]
    #[test]
    fn the_linux_script_passes_each_value_as_one_argument() {
        use std::os::unix::fs::PermissionsExt;
        use std::process::Command;
        if Command::new("bash").arg("-c").arg("true").status().is_err() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("arclink-onboarding-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let agent = dir.join("azcmagent");
        std::fs::write(&agent, "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\"\n").unwrap();
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
        let o = Onboarding {
            config_map_name: "x".into(),
            subscription_id: None,
            resource_group: Some("rg (it's ours)".into()),
        };
        let c = Connect::of(&scope(o, Some(TENANT)), &Settings::new("c")).unwrap();
        let script = dir.join("connect.sh");
        std::fs::write(&script, linux(&c)).unwrap();
        let path = format!("{}:/usr/bin:/bin", dir.display());
        let run = |env: &[(&str, &str)]| {
            Command::new("bash")
                .arg(&script)
                .env_clear()
                .env("PATH", &path)
                .envs(env.iter().copied())
                .output()
                .unwrap()
        };
        let refused = run(&[]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("replace the placeholders"));
        let ok = run(&[
            ("SERVICE_PRINCIPAL_ID", "app-id"),
            ("SERVICE_PRINCIPAL_SECRET", "s3cr$t 'x'"),
        ]);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(ok.status.success(), "{ok:?}");
        let args: Vec<String> = String::from_utf8_lossy(&ok.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(
            args,
            [
                "connect",
                "--service-principal-id",
                "app-id",
                "--service-principal-secret",
                "s3cr$t 'x'",
                "--resource-group",
                "rg (it's ours)",
                "--tenant-id",
                TENANT,
                "--location",
                "eastus",
                "--subscription-id",
                "11111111-2222-3333-4444-555555555555",
                "--cloud",
                "AzureCloud",
                "--private-link-scope",
                SCOPE,
            ]
        );
    }

    #[test]
    fn values_are_quoted_for_each_shell() {
        assert_eq!(sh("rg-(x)"), "'rg-(x)'");
        assert_eq!(sh("it's"), r"'it'\''s'");
        assert_eq!(ps("it's"), "'it''s'");
        assert_eq!(ps("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
    }

    #[test]
    fn no_secret_is_ever_written() {
        let c = Connect::of(&scope(onboarding(), Some(TENANT)), &Settings::new("c")).unwrap();
        let data = config_map_data(&c);
        assert_eq!(
            data.keys().collect::<Vec<_>>(),
            [README_KEY, LINUX_KEY, WINDOWS_KEY]
        );
        for text in data.values() {
            assert!(text.contains(SERVICE_PRINCIPAL_SECRET), "{text}");
        }
        let readme = &data[README_KEY];
        assert!(readme.contains(&format!("| `--private-link-scope` | `{SCOPE}` |")));
        assert!(readme.contains(&format!("| `--tenant-id` | `{TENANT}` |")));
        for note in NOTES {
            assert!(readme.contains(note));
        }
    }

    #[test]
    fn a_scope_without_a_subscription_names_the_object_and_field() {
        let mut obj = scope(onboarding(), None);
        obj.spec.azure.subscription_id = None;
        let err = Connect::of(&obj, &Settings::new("c")).unwrap_err();
        assert!(err.contains("ArcPrivateLinkScope ns/arc-scope"), "{err}");
        assert!(err.contains("spec.azure.subscriptionId"), "{err}");
    }

    #[test]
    fn guids() {
        assert!(is_guid(TENANT));
        assert!(!is_guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeee"));
        assert!(!is_guid("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeeg"));
        assert!(!is_guid(""));
    }
}
