//! The per-cloud table: consistent, sourced, and what the client and the agent get from it.

use super::*;

#[test]
fn agent_cloud_names() {
    assert_eq!(
        Cloud::by_name("AzurePublicCloud").unwrap().agent_name(),
        "AzureCloud"
    );
    assert_eq!(
        Cloud::by_name("usgovernment").unwrap().agent_name(),
        "AzureUSGovernment"
    );
    assert_eq!(Cloud::AzureChinaCloud().agent_name(), "AzureChinaCloud");
    let emulator = Cloud::custom(
        "arclink-emulator",
        url::Url::parse("https://127.0.0.1:1/").unwrap(),
        url::Url::parse("https://127.0.0.1:1/").unwrap(),
        "x",
    );
    assert_eq!(emulator.agent_name(), "AzureCloud");
    assert_eq!(emulator.known(), None);
}

#[test]
fn built_in_clouds() {
    let public = Cloud::AzurePublicCloud();
    assert_eq!(public.scope(), "https://management.azure.com/.default");
    assert_eq!(
        public.authority_host.host_str(),
        Some("login.microsoftonline.com")
    );
    let gov = Cloud::by_name("AzureUSGovernment").unwrap();
    assert_eq!(
        gov.arm_endpoint.host_str(),
        Some("management.usgovcloudapi.net")
    );
    assert_eq!(
        gov.authority_host.host_str(),
        Some("login.microsoftonline.us")
    );
    let china = Cloud::by_name("azurechinacloud").unwrap();
    assert_eq!(
        china.scope(),
        "https://management.chinacloudapi.cn/.default"
    );
    assert!(Cloud::by_name("mars").is_none());
}

/// Every spelling `--cloud` accepted before the table still means the same cloud.
#[test]
fn names_and_aliases() {
    for (name, cloud) in [
        ("AzurePublicCloud", KnownCloud::AzureCloud),
        ("azurecloud", KnownCloud::AzureCloud),
        ("public", KnownCloud::AzureCloud),
        ("AzureUSGovernment", KnownCloud::AzureUSGovernment),
        ("azureusgovernmentcloud", KnownCloud::AzureUSGovernment),
        ("usgovernment", KnownCloud::AzureUSGovernment),
        ("AzureChinaCloud", KnownCloud::AzureChinaCloud),
        ("china", KnownCloud::AzureChinaCloud),
    ] {
        assert_eq!(KnownCloud::by_name(name), Some(cloud), "{name}");
        assert_eq!(Cloud::by_name(name).unwrap().known(), Some(cloud), "{name}");
    }
    assert_eq!(KnownCloud::by_name("AzureGermanCloud"), None);
    assert_eq!(
        KnownCloud::by_agent_name("AzureUSGovernment"),
        Some(KnownCloud::AzureUSGovernment)
    );
    assert_eq!(KnownCloud::by_agent_name("azureusgovernment"), None);
    assert_eq!(
        KnownCloud::for_agent("AzureChinaCloud"),
        KnownCloud::AzureChinaCloud
    );
    assert_eq!(KnownCloud::for_agent("anything"), KnownCloud::AzureCloud);
}

#[test]
fn the_table_is_consistent_and_sourced() {
    let mut spellings: Vec<String> = Vec::new();
    for (i, row) in CLOUDS.iter().enumerate() {
        assert_eq!(KnownCloud::ALL[i].row(), row);
        assert_eq!(row.cloud, KnownCloud::ALL[i]);
        for url in [row.arm_endpoint.value, row.authority_host.value] {
            let parsed = Url::parse(url).unwrap();
            assert_eq!(parsed.scheme(), "https", "{url}");
            assert_eq!(parsed.path(), "/", "{url}");
        }
        for source in [
            row.arm_endpoint.source,
            row.authority_host.source,
            row.agent_entra_hosts.source,
        ] {
            assert!(!source.text().is_empty() && !source.is_inferred());
        }
        assert!(!row.agent_entra_hosts.value.is_empty());
        let mut own: Vec<String> = [row.name, row.cloud.agent_name()]
            .into_iter()
            .chain(row.aliases.iter().copied())
            .map(str::to_ascii_lowercase)
            .collect();
        own.sort();
        own.dedup();
        for spelling in own {
            assert!(
                !spellings.contains(&spelling),
                "{spelling} names two clouds"
            );
            spellings.push(spelling);
        }
    }
}

#[test]
fn government_endpoints_hosts_and_zones() {
    let gov = KnownCloud::AzureUSGovernment;
    assert_eq!(gov.arm_host(), "management.usgovcloudapi.net");
    assert_eq!(
        gov.row().agent_entra_hosts.value,
        ["login.microsoftonline.us", "pasff.usgovcloudapi.net"]
    );
    for zone in gov.arc_zones() {
        assert!(zone.name.ends_with(".azure.us"), "{}", zone.name);
    }
    assert_eq!(gov.arc_zones().len(), 3);
    assert!(
        gov.arc_names()
            .iter()
            .any(|n| n.pattern == "gbl.his.arc.azure.us")
    );
    assert_eq!(KnownCloud::AzureCloud.arm_host(), "management.azure.com");
    assert_eq!(
        KnownCloud::AzureChinaCloud.arm_host(),
        "management.chinacloudapi.cn"
    );
}
