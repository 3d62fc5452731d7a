//! The onboarding commands: their values, their checks, and the bash script run with a
//! stand-in agent.

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
    assert!(
        script
            .contains("SERVICE_PRINCIPAL_ID=\"${SERVICE_PRINCIPAL_ID:-<service-principal-id>}\"\n")
    );
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
    assert!(f.contains(&"--subscription-id '99999999-2222-3333-4444-555555555555'".to_string()));
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
    for note in notes(&c) {
        assert!(readme.contains(&note), "{note}");
    }
}

/// `--cloud AzureUSGovernment`, as `run`, `plan` and `apply` read it: the agent's cloud, the
/// notes' Entra ID and ARM hosts, the client's endpoints and Arc's zones are all Government's.
#[test]
fn the_government_cloud_flag_gives_government_endpoints_throughout() {
    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        azure: crate::connect::AzureArgs,
    }
    let azure =
        <Flags as clap::Parser>::try_parse_from(["arclink", "--cloud", "AzureUSGovernment"])
            .unwrap()
            .azure;
    let settings = azure.settings(false, false);
    let c = Connect::of(&scope(onboarding(), Some(TENANT)), &settings).unwrap();
    let data = config_map_data(&c);
    for (key, text) in &data {
        for public in [
            "login.windows.net",
            "login.microsoftonline.com",
            "pas.windows.net",
            "management.azure.com",
            "AzureCloud'",
        ] {
            assert!(!text.contains(public), "{key} names {public}: {text}");
        }
        for government in [
            "login.microsoftonline.us, pasff.usgovcloudapi.net",
            "management.usgovcloudapi.net",
            "AzureUSGovernment",
        ] {
            assert!(
                text.contains(government),
                "{key} lacks {government}: {text}"
            );
        }
        assert!(comment_lines(text) == HEADER_LINES || key == README_KEY);
    }
    assert!(flags(&data[LINUX_KEY]).contains(&"--cloud 'AzureUSGovernment'".to_string()));
    let cloud = azure.cloud().unwrap();
    assert_eq!(
        cloud.arm_endpoint.as_str(),
        "https://management.usgovcloudapi.net/"
    );
    assert_eq!(
        cloud.authority_host.as_str(),
        "https://login.microsoftonline.us/"
    );
    let zones: Vec<&str> = KnownCloud::for_agent(&settings.agent_cloud)
        .arc_zones()
        .iter()
        .map(|z| z.name)
        .collect();
    assert_eq!(
        zones,
        [
            "privatelink.his.arc.azure.us",
            "privatelink.guestconfiguration.azure.us",
            "privatelink.dp.kubernetesconfiguration.azure.us"
        ]
    );
}

/// A cloud outside the table (only a hand-made `Connect` has one) names no host.
#[test]
fn an_unknown_cloud_names_no_host() {
    let mut c = Connect::of(&scope(onboarding(), Some(TENANT)), &Settings::new("c")).unwrap();
    c.cloud = "AzureStack".into();
    let note = &notes(&c)[1];
    assert!(
        note.starts_with("Traffic to Microsoft Entra ID and Azure Resource Manager still goes"),
        "{note}"
    );
    assert_eq!(comment_lines(&linux(&c)), HEADER_LINES);
}

#[test]
fn a_scope_without_a_subscription_names_the_object_and_field() {
    let mut obj = scope(onboarding(), None);
    obj.spec.azure.subscription_id = None;
    let err = Connect::of(&obj, &Settings::new("c")).unwrap_err();
    assert!(err.contains("ArcPrivateLinkScope ns/arc-scope"), "{err}");
    assert!(err.contains("spec.azure.subscriptionId"), "{err}");
}

/// A scratch directory with a stand-in `azcmagent` that prints its arguments, each ended by
/// a NUL, to run the bash script with (`None` without bash).
#[cfg(unix)]
struct Bash {
    dir: std::path::PathBuf,
}

#[cfg(unix)]
impl Bash {
    fn new(name: &str) -> Option<Bash> {
        use std::os::unix::fs::PermissionsExt;
        let bash = std::process::Command::new("bash")
            .args(["-c", "true"])
            .status();
        if !bash.is_ok_and(|s| s.success()) {
            return None;
        }
        let dir =
            std::env::temp_dir().join(format!("arclink-onboarding-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let agent = dir.join("azcmagent");
        std::fs::write(&agent, "#!/usr/bin/env bash\nprintf '%s\\0' \"$@\"\n").unwrap();
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
        Some(Bash { dir })
    }

    /// Runs `script` in the scratch directory with only `env` (and PATH) set.
    fn run(&self, script: &str, env: &[(&str, &str)]) -> std::process::Output {
        let file = self.dir.join("connect.sh");
        std::fs::write(&file, script).unwrap();
        std::process::Command::new("bash")
            .arg(&file)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.dir.display()))
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// Runs the script of `c` with a service principal set: the agent's arguments, or
    /// `None` when the script stopped before running it. Fails when anything but the
    /// agent ran (a file appeared beside the script).
    fn agent_args(&self, c: &Connect) -> Option<Vec<String>> {
        let out = self.run(
            &linux(c),
            &[
                ("SERVICE_PRINCIPAL_ID", "app-id"),
                ("SERVICE_PRINCIPAL_SECRET", "s3cr$t 'x'"),
            ],
        );
        let mut files: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            ["azcmagent", "connect.sh"],
            "something else ran: {out:?}"
        );
        if !out.status.success() {
            return None;
        }
        let stdout = String::from_utf8(out.stdout).unwrap();
        let mut args: Vec<String> = stdout.split('\0').map(str::to_string).collect();
        assert_eq!(args.pop().as_deref(), Some(""), "{stdout:?}");
        Some(args)
    }
}

#[cfg(unix)]
impl Drop for Bash {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The arguments the agent must get for `c`: the values as they are, but for NUL, which no
/// argument can carry (bash drops it from the script it reads).
fn expected_args(c: &Connect) -> Vec<String> {
    [
        "connect",
        "--service-principal-id",
        "app-id",
        "--service-principal-secret",
        "s3cr$t 'x'",
        "--resource-group",
        &c.resource_group,
        "--tenant-id",
        c.tenant(),
        "--location",
        &c.location,
        "--subscription-id",
        &c.subscription_id,
        "--cloud",
        &c.cloud,
        "--private-link-scope",
        &c.private_link_scope,
    ]
    .map(|a| a.replace('\0', ""))
    .to_vec()
}

/// Runs the bash script with the stand-in `azcmagent`: the values reach the agent as single
/// arguments, placeholders stop the script.
#[cfg(unix)]
#[test]
fn the_linux_script_passes_each_value_as_one_argument() {
    let Some(bash) = Bash::new("args") else {
        return;
    };
    let o = Onboarding {
        config_map_name: "x".into(),
        subscription_id: None,
        resource_group: Some("rg-(it_is.ours)".into()),
    };
    let c = Connect::of(&scope(o, Some(TENANT)), &Settings::new("c")).unwrap();
    let refused = bash.run(&linux(&c), &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("replace the placeholders"));
    assert_eq!(
        bash.agent_args(&c).unwrap(),
        [
            "connect",
            "--service-principal-id",
            "app-id",
            "--service-principal-secret",
            "s3cr$t 'x'",
            "--resource-group",
            "rg-(it_is.ours)",
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

/// The probe of issue 22: a default subscription carrying a command on its own line.
const PROBE: &str = "11111111-2222-3333-4444-555555555555\ntouch MARK\n#";

#[test]
fn a_subscription_carrying_a_command_is_refused_naming_its_field() {
    let mut obj = scope(onboarding(), Some(TENANT));
    obj.spec.azure.subscription_id = None;
    let settings = Settings {
        default_subscription: Some(PROBE.into()),
        ..Settings::new("c")
    };
    let err = Connect::of(&obj, &settings).unwrap_err();
    assert!(
        err.starts_with("ArcPrivateLinkScope ns/arc-scope: onboarding: spec.azure.subscriptionId (or --default-subscription) \"11111111-2222-3333-4444-555555555555\\ntouch MARK\\n#\" is not a GUID"),
        "{err}"
    );
    for (field, change) in [
        (
            "spec.onboarding.subscriptionId",
            Onboarding {
                subscription_id: Some(PROBE.into()),
                ..onboarding()
            },
        ),
        (
            "spec.onboarding.resourceGroup",
            Onboarding {
                resource_group: Some("rg'; touch MARK; '".into()),
                ..onboarding()
            },
        ),
    ] {
        let err = Connect::of(&scope(change, Some(TENANT)), &Settings::new("c")).unwrap_err();
        assert!(
            err.contains(field) && err.contains("touch MARK"),
            "{field}: {err}"
        );
    }
    let mut far = scope(onboarding(), Some(TENANT));
    far.spec.location = "East US\n$(touch MARK)".into();
    let err = Connect::of(&far, &Settings::new("c")).unwrap_err();
    assert!(err.contains("spec.location"), "{err}");
    let cloud = Settings {
        agent_cloud: "AzureCloud`touch MARK`".into(),
        ..Settings::new("c")
    };
    let err = Connect::of(&scope(onboarding(), Some(TENANT)), &cloud).unwrap_err();
    assert!(err.contains("--cloud"), "{err}");
}

/// The comment block of a script with a known tenant: what it says, four notes.
const HEADER_LINES: usize = 12;

/// The lines of the comment block at the top of a script: each starts with `#` (in bash, as in
/// PowerShell, a line ends at a line feed; PowerShell also ends one at a carriage return).
fn comment_lines(script: &str) -> usize {
    script
        .split(['\n', '\r'])
        .skip_while(|l| l.starts_with("#!"))
        .take_while(|l| l.starts_with('#'))
        .count()
}

/// Even unvalidated, the probe's value stays one argument and its command is not run: the
/// comments show it escaped, the command line quotes it.
#[cfg(unix)]
#[test]
fn the_probe_cannot_run_a_command_even_unvalidated() {
    let Some(bash) = Bash::new("probe") else {
        return;
    };
    let mut c = Connect::of(&scope(onboarding(), None), &Settings::new("c")).unwrap();
    c.subscription_id = PROBE.into();
    c.private_link_scope = SCOPE.replace("11111111-2222-3333-4444-555555555555", PROBE);
    c.object = format!("ns/{PROBE}");
    c.tenant_id = Some(TENANT.into());
    for script in [linux(&c), windows(&c)] {
        assert_eq!(comment_lines(&script), HEADER_LINES, "{script}");
        assert!(script.contains("#   /subscriptions/11111111-2222-3333-4444-555555555555\\ntouch MARK\\n#/resourceGroups/"), "{script}");
    }
    c.tenant_id = None;
    assert_eq!(
        comment_lines(&linux(&c)),
        HEADER_LINES + 2,
        "the tenant's note, with the subscription"
    );
    assert_eq!(bash.agent_args(&c), None, "the placeholder tenant stops it");
    c.tenant_id = Some(TENANT.into());
    assert_eq!(bash.agent_args(&c).unwrap(), expected_args(&c));
}

/// Any text in any slot: the bash script gives the agent exactly that text (or stops at a
/// tenant with `<`, the placeholder's mark), runs nothing else, and the PowerShell script
/// holds it quoted; the comments of both keep to their lines. NUL included: bash drops it.
#[cfg(unix)]
#[test]
fn any_value_in_any_slot_reaches_the_agent_verbatim() {
    use proptest::test_runner::{Config, TestRunner};
    let Some(bash) = Bash::new("property") else {
        return;
    };
    let text = || "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{2028}\\u{2019}'\"`$(){};|&<>#!*?~=a\\\\ -]*";
    let values = (text(), text(), text(), text(), text(), text(), text());
    // Config::default() reads PROPTEST_CASES.
    let mut runner = TestRunner::new(Config::default());
    runner
        .run(
            &values,
            |(sub, rg, location, tenant, cloud, scope, object)| {
                let c = Connect {
                    object,
                    subscription_id: sub,
                    resource_group: rg,
                    location,
                    tenant_id: Some(tenant),
                    cloud,
                    private_link_scope: scope,
                };
                let args = bash.agent_args(&c);
                if c.tenant().contains('<') {
                    proptest::prop_assert_eq!(args, None);
                } else {
                    proptest::prop_assert_eq!(args, Some(expected_args(&c)));
                }
                let script = windows(&c);
                for value in [
                    c.tenant(),
                    &c.resource_group,
                    &c.location,
                    &c.subscription_id,
                    &c.cloud,
                    &c.private_link_scope,
                ] {
                    proptest::prop_assert!(script.contains(&ps(value)));
                }
                proptest::prop_assert_eq!(comment_lines(&script), HEADER_LINES, "{}", script);
                proptest::prop_assert_eq!(comment_lines(&linux(&c)), HEADER_LINES);
                Ok(())
            },
        )
        .unwrap();
}
