//! Every class of bad manifest is reported with file, document, object and field, and nothing
//! reaches ARM: a valid object next to the bad one is not created. Paths that hold no manifest,
//! or something that is not a file of bounded size, and absurd flags are errors too.

use serde_json::Value;

use crate::common::sandbox::Sandbox;

/// A valid scope that `apply` would create if the bad document did not stop it.
const VALID: &str = r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateLinkScope
metadata:
  name: extra-scope
spec:
  azure: {subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-arc}
  location: eastus
"#;

fn scope(name: &str, spec_extra: &str) -> String {
    format!(
        r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateLinkScope
metadata:
  name: {name}
  namespace: team-a
spec:
  azure: {{subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-arc}}
{spec_extra}"#
    )
}

/// Applies `VALID` followed by `bad`; expects exit 1, `expected` in stderr, the JSON error
/// class `class`, and no scope `extra-scope` in the emulator.
fn rejected(name: &str, bad: &str, expected: &[&str], class: &str) {
    let sb = Sandbox::new(name);
    // A first, valid apply creates the emulator state that the rejected one must not change.
    let first = sb.arclink(&["apply", "-f", "deploy/examples/01-scope.yaml"]);
    assert_eq!(first.code, 0, "{first:?}");
    let before = sb.resources();
    let file = sb.write("bad.yaml", &format!("{VALID}---\n{bad}"));

    let apply = sb.arclink(&["apply", "-f", &file]);
    assert_eq!(apply.code, 1, "{apply:?}");
    for e in expected {
        assert!(
            apply.stderr.contains(e),
            "{name}: expected {e:?} in:\n{}",
            apply.stderr
        );
    }
    assert!(
        apply
            .stderr
            .contains("nothing was read from or written to Azure"),
        "{}",
        apply.stderr
    );
    assert!(apply.stdout.is_empty(), "{}", apply.stdout);
    assert_eq!(sb.resources(), before, "{name}: the emulator state changed");

    let plan = sb.arclink(&["plan", "-f", &file, "-o", "json"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    let json: Value = serde_json::from_str(&plan.stdout).unwrap();
    let errors = json["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["class"] == class && e["file"] == "<tmp>/bad.yaml"),
        "{name}: no {class} error in {json:#}"
    );
    assert!(json["objects"].as_array().unwrap().is_empty());
}

#[test]
fn invalid_yaml_names_the_file_and_document() {
    rejected(
        "yaml",
        "kind: ArcPrivateLinkScope\nmetadata: {name: broken\nspec: [\n",
        // Line numbers are the file's, not the document's.
        &["error: <tmp>/bad.yaml (document 2): invalid YAML: line 11 column 5: "],
        "yaml",
    );
}

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    rejected(
        "unknown",
        &scope(
            "typo",
            "  location: eastus\n  publicNetworkAcess: Disabled\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/typo: spec.publicNetworkAcess: unknown field",
        ],
        "invalid",
    );
}

#[test]
fn schema_violations_are_rejected_with_their_path() {
    rejected(
        "schema",
        &scope(
            "bad-enum",
            "  location: eastus\n  publicNetworkAccess: Sometimes\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/bad-enum: spec.publicNetworkAccess: unsupported value \"Sometimes\"",
        ],
        "invalid",
    );
}

#[test]
fn bad_service_extensions_are_rejected_with_their_path() {
    rejected(
        "extension-enum",
        &scope(
            "bad-extension",
            "  location: eastus\n  serviceExtensions: [{type: SQL, publicNetworkAccess: Sometimes}]\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/bad-extension: spec.serviceExtensions[0].publicNetworkAccess: unsupported value \"Sometimes\"",
        ],
        "invalid",
    );
    rejected(
        "extension-twice",
        &scope(
            "twice",
            "  location: eastus\n  serviceExtensions:\n  - {type: SQL, publicNetworkAccess: Disabled}\n  - {type: SQL, publicNetworkAccess: Enabled}\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/twice: spec.serviceExtensions[1]: duplicate entry with type=\"SQL\"",
        ],
        "invalid",
    );
    rejected(
        "extension-no-access",
        &scope(
            "no-access",
            "  location: eastus\n  serviceExtensions: [{type: SQL}]\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/no-access: spec.serviceExtensions[0].publicNetworkAccess: required field is missing",
        ],
        "invalid",
    );
}

#[test]
fn a_bad_onboarding_config_map_name_is_rejected_with_its_path() {
    rejected(
        "onboarding",
        &scope(
            "bad-onboarding",
            "  location: eastus\n  onboarding: {configMapName: Not_A_Name}\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/bad-onboarding: spec.onboarding.configMapName: \"Not_A_Name\" does not match pattern",
        ],
        "invalid",
    );
}

#[test]
fn cel_violations_are_rejected_with_the_rule_message() {
    rejected(
        "cel",
        &scope(
            "reserved",
            "  location: eastus\n  tags: {managed-by: someone-else}\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/reserved: spec.tags",
            "tags managed-by and arclink-owner are reserved for arclink",
        ],
        "invalid",
    );
}

#[test]
fn an_absurd_drift_check_interval_is_rejected_not_a_panic() {
    rejected(
        "drift-interval",
        &scope(
            "slow",
            "  location: eastus\n  policy: {driftCheckInterval: 99999999999999999999h}\n",
        ),
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope team-a/slow: spec.policy.driftCheckInterval: driftCheckInterval must be at most 24h",
        ],
        "invalid",
    );
}

#[test]
fn a_dangling_scope_ref_is_rejected() {
    rejected(
        "dangling",
        r#"apiVersion: arclink.io/v1alpha1
kind: ArcServerAssociation
metadata:
  name: orphans
spec:
  scopeRef: {name: no-such-scope}
  machines: {resourceGroup: rg-servers, names: [web-01]}
"#,
        &[
            "error: <tmp>/bad.yaml (document 2): ArcServerAssociation default/orphans: spec.scopeRef.name: ArcPrivateLinkScope default/no-such-scope is not declared in the manifests",
        ],
        "danglingScopeRef",
    );
}

#[test]
fn a_dangling_monitor_scope_ref_is_rejected_naming_its_field() {
    rejected(
        "dangling-monitor",
        r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateEndpoint
metadata:
  name: hub-monitor-pe
spec:
  azure: {subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: rg-net}
  location: eastus
  subnetId: /subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub/subnets/private-endpoints
  monitorScopeRef: {name: no-such-scope}
"#,
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateEndpoint default/hub-monitor-pe: spec.monitorScopeRef.name: ArcMonitorPrivateLinkScope default/no-such-scope is not declared in the manifests (dangling monitorScopeRef; use spec.target (resourceId and groupId) for a resource managed elsewhere)",
        ],
        "danglingScopeRef",
    );
}

#[test]
fn duplicates_are_rejected_naming_both_places() {
    rejected(
        "duplicate",
        VALID,
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope default/extra-scope: duplicate: already declared at <tmp>/bad.yaml (document 1)",
        ],
        "duplicate",
    );
}

#[test]
fn other_kinds_are_ignored_with_a_note() {
    let sb = Sandbox::new("foreign");
    let file = sb.write(
        "mixed.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: unrelated}}\n---\n{VALID}"),
    );
    let plan = sb.arclink(&["plan", "-f", &file]);
    plan.exited(2).stderr(|e| {
        e.contains(
            "note: <tmp>/mixed.yaml (document 1): ignoring ConfigMap (v1): not an arclink kind",
        )
    });
    assert!(
        plan.stdout
            .contains("ArcPrivateLinkScope default/extra-scope (<tmp>/mixed.yaml, document 2)")
    );
}

#[test]
fn missing_fixtures_are_a_clear_error() {
    let sb = Sandbox::new("fixtures");
    let run = sb.arclink(&[
        "plan",
        "-f",
        "deploy/examples/",
        "--emulator-fixtures",
        "no/such/fixtures.yaml",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("--emulator-fixtures no/such/fixtures.yaml: ")
            && run.stderr.contains("run from the repository root"),
        "{}",
        run.stderr
    );
}

#[test]
fn two_objects_declaring_one_azure_resource_are_rejected_naming_both() {
    rejected(
        "azure-duplicate",
        // Another object, the same scope in Azure (ARM ids ignore case).
        r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateLinkScope
metadata:
  name: other
spec:
  azure: {subscriptionId: 11111111-2222-3333-4444-555555555555, resourceGroup: RG-ARC, name: Extra-Scope}
  location: eastus
"#,
        &[
            "error: <tmp>/bad.yaml (document 2): ArcPrivateLinkScope default/other: spec.azure: Azure resource /subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/RG-ARC/providers/Microsoft.HybridCompute/privateLinkScopes/Extra-Scope is also declared by ArcPrivateLinkScope default/extra-scope at <tmp>/bad.yaml (document 1)",
        ],
        "duplicateAzureResource",
    );
}

#[test]
fn the_default_subscription_completes_ids_when_looking_for_duplicates() {
    let sb = Sandbox::new("azure-duplicate-default");
    // No subscription: the default's, when there is one.
    let implicit = r#"apiVersion: arclink.io/v1alpha1
kind: ArcPrivateLinkScope
metadata:
  name: again
spec:
  azure: {resourceGroup: rg-arc, name: extra-scope}
  location: eastus
"#;
    let file = sb.write("two.yaml", &format!("{VALID}---\n{implicit}"));
    let without = sb.arclink(&["plan", "-f", &file]);
    assert_eq!(without.code, 1, "{without:?}");
    assert!(
        !without.stderr.contains("is also declared by"),
        "no subscription, no id: {}",
        without.stderr
    );
    let with = sb.arclink(&[
        "plan",
        "-f",
        &file,
        "--default-subscription",
        crate::common::fixtures::SUB,
    ]);
    with.exited(1).stderr(|e| e.contains("ArcPrivateLinkScope default/again: spec.azure: Azure resource /subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/privateLinkScopes/extra-scope is also declared by ArcPrivateLinkScope default/extra-scope"));
}

/// `plan -f <args>` in `sb`: exit 1, with each of `expected` in stderr and no plan on stdout.
fn plan_fails(sb: &Sandbox, args: &[&str], expected: &[&str]) {
    let mut all = vec!["plan", "-f"];
    all.extend(args);
    let run = sb.arclink(&all);
    assert_eq!(run.code, 1, "{args:?}: {run:?}");
    for e in expected {
        assert!(
            run.stderr.contains(e),
            "{args:?}: expected {e:?} in:\n{}",
            run.stderr
        );
    }
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn finding_no_manifests_is_an_error_naming_the_path() {
    let sb = Sandbox::new("no-manifests");
    let empty = sb.dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    plan_fails(
        &sb,
        &[&empty.display().to_string()],
        &[
            "error: <tmp>/empty: no manifests found: a directory is read for its *.yaml and *.yml files",
        ],
    );

    let other = sb.dir.join("json-only");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("scope.json"), "{}").unwrap();
    plan_fails(
        &sb,
        &[&other.display().to_string()],
        &["error: <tmp>/json-only: no manifests found"],
    );

    let broken = sb.dir.join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::os::unix::fs::symlink("nowhere.yaml", broken.join("scope.yaml")).unwrap();
    plan_fails(
        &sb,
        &[&broken.display().to_string()],
        &["error: <tmp>/broken/scope.yaml: broken symbolic link to nowhere.yaml"],
    );
    let link = sb.dir.join("link.yaml");
    std::os::unix::fs::symlink("nowhere.yaml", &link).unwrap();
    plan_fails(
        &sb,
        &[&link.display().to_string()],
        &["error: <tmp>/link.yaml: broken symbolic link to nowhere.yaml"],
    );

    let blank = sb.write("blank.yaml", "# nothing here\n---\n");
    let foreign = sb.write(
        "foreign.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    plan_fails(
        &sb,
        &[&blank, &foreign],
        &[
            "error: <tmp>/blank.yaml, <tmp>/foreign.yaml: no arclink objects (ArcPrivateLinkScope, ArcMonitorPrivateLinkScope, ArcResourceManagementPrivateLink, ArcPrivateEndpoint, ArcServerAssociation) in the manifests",
        ],
    );
    let json = sb.arclink(&["plan", "-f", &blank, "-o", "json"]);
    assert_eq!(json.code, 1, "{json:?}");
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(plan["errors"][0]["class"], "noObjects", "{plan:#}");
}

#[test]
fn directories_are_read_for_yaml_files_in_any_case() {
    let sb = Sandbox::new("upper-case");
    let dir = sb.dir.join("manifests");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("SCOPE.YAML"), VALID).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a manifest").unwrap();
    let plan = sb.arclink(&["plan", "-f", &dir.display().to_string()]);
    plan.exited(2).stdout(|o| {
        o.contains(
            "ArcPrivateLinkScope default/extra-scope (<tmp>/manifests/SCOPE.YAML, document 1)",
        )
    });
}

#[test]
fn only_regular_files_of_bounded_size_are_read() {
    let sb = Sandbox::new("special-files");
    let fifo = sb.dir.join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Opening a FIFO would wait for a writer for ever: it must not be opened at all.
    plan_fails(
        &sb,
        &[&fifo.display().to_string()],
        &["error: <tmp>/pipe.yaml: not a regular file or directory"],
    );
    plan_fails(
        &sb,
        &[&sb.dir.display().to_string()],
        &["error: <tmp>/pipe.yaml: not a regular file"],
    );
    plan_fails(
        &sb,
        &["/dev/zero"],
        &["error: /dev/zero: not a regular file or directory"],
    );

    let big = sb.dir.join("big.yaml");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(16 * 1024 * 1024 + 1).unwrap();
    plan_fails(
        &sb,
        &[&big.display().to_string()],
        &["error: <tmp>/big.yaml: larger than 16 MiB: not a manifest"],
    );
}

#[test]
fn absurd_durations_are_flag_errors_with_exit_1() {
    let sb = Sandbox::new("absurd-flags");
    for args in [
        &["apply", "--timeout", "99999999999999999h"][..],
        &["apply", "--timeout", "25h"],
        &["plan", "--timeout", "99999999999999999h"],
        &["plan", "--timeout", "25h"],
        &["apply", "--poll-interval", "2h"],
        &["plan", "--drift-check-interval", "99999999999999999999h"],
        &["plan", "--emulator-lro-duration", "2h"],
    ] {
        let mut all = args.to_vec();
        all.extend(["-f", "deploy/examples/"]);
        let run = sb.arclink(&all);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(args[1]) && run.stderr.contains("more than"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// The probe of issue 22: a default subscription carrying a command for the onboarding script
/// stops every command at start-up, naming the flag, through the flag or the environment.
#[test]
fn a_default_subscription_that_is_not_a_guid_stops_every_command_naming_the_flag() {
    let probe = "11111111-2222-3333-4444-555555555555\ntouch MARK\n#";
    let sb = Sandbox::new("default-subscription");
    for command in ["plan", "apply", "dns-check"] {
        let run = sb.arclink(&[
            command,
            "-f",
            "deploy/examples/",
            "--default-subscription",
            probe,
        ]);
        assert_eq!(run.code, 1, "{command}: {run:?}");
        assert!(
            run.stderr.contains("--default-subscription")
                && run.stderr.contains("is not a subscription id"),
            "{command}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{command}");
    }
    let with_env = |value: &str, args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_arclink"));
        cmd.current_dir(crate::common::sandbox::root())
            .args(args)
            .arg("--emulator-state")
            .arg(sb.state());
        for (k, _) in std::env::vars() {
            if k.starts_with("AZURE_") || k.starts_with("ARCLINK_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        cmd.env("ARCLINK_DEFAULT_SUBSCRIPTION", value)
            .output()
            .unwrap()
    };
    let refused = with_env(probe, &["plan", "-f", "deploy/examples/01-scope.yaml"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("ARCLINK_DEFAULT_SUBSCRIPTION")
            && stderr.contains("is not a subscription id"),
        "{stderr}"
    );
    assert!(!sb.dir.join("MARK").exists() && !crate::common::sandbox::root().join("MARK").exists());
    // deploy/deployment.yaml sets it empty when there is no default: that is no default.
    let empty = with_env("", &["plan", "-f", "deploy/examples/01-scope.yaml"]);
    assert_eq!(empty.status.code(), Some(2), "changes pending: {empty:?}");
}
