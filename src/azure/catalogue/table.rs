//! The catalogue's rows. Each value's source is next to it: `Documented` names the Microsoft
//! page, `Inferred` says how a value the documentation does not give was derived (the README's
//! table marks them). A group id absent from a cloud is one Microsoft documents no zones for
//! there.

use super::{Entry, Group, PublicName, Zone};
use crate::azure::cloud::{KnownCloud, Source};

/// Microsoft's zone table, one section per cloud.
const DNS_COMMERCIAL: &str =
    "learn.microsoft.com private-link/private-endpoint-dns, Commercial tables (ms.date 2025-08-04)";
const DNS_GOVERNMENT: &str =
    "learn.microsoft.com private-link/private-endpoint-dns, Government tables (ms.date 2025-08-04)";
const DNS_CHINA: &str =
    "learn.microsoft.com private-link/private-endpoint-dns, China tables (ms.date 2025-08-04)";
const ARC_TROUBLESHOOTING: &str =
    "learn.microsoft.com azure-arc/servers/private-link-security, Troubleshooting (nslookup)";
const ARC_SCOPE_LIMITS: &str = "learn.microsoft.com azure-arc/servers/private-link-security, Restrictions and limitations (one Arc Private Link Scope per virtual network; every machine resolves through the same DNS forwarder)";
const ARC_K8S_NETWORK: &str =
    "learn.microsoft.com azure-arc/kubernetes/network-requirements (endpoints per cloud)";
const MACHINE_CONFIG: &str = "learn.microsoft.com governance/machine-configuration/overview, Network requirements (endpoints per region)";
const MONITOR_DNS: &str = "learn.microsoft.com azure-monitor/logs/private-link-configure, Review your endpoint's DNS settings";
const MONITOR_DESIGN: &str = "learn.microsoft.com azure-monitor/fundamentals/private-link-design (create only a single AMPLS object per DNS)";
const KEYVAULT_HOSTS: &str =
    "learn.microsoft.com key-vault/general/access-behind-firewall (data plane host per cloud)";
const STORAGE_ENDPOINTS: &str =
    "learn.microsoft.com storage/common/storage-account-overview, Standard endpoints";
const STORAGE_SECONDARY: &str = "learn.microsoft.com storage/common/storage-redundancy, Read access to data in the secondary region (account name + -secondary)";
const AUTOMATION_HOSTS: &str = "learn.microsoft.com automation/how-to/private-link-security (Webhook, Hybrid Runbook Worker and State Configuration endpoints)";
const RMPL_HOSTS: &str =
    "learn.microsoft.com azure-resource-manager/management/create-private-link-access-commands";

const ARC_ZONES_INFERRED: &str = "the cloud's table has no Arc row (its Hybrid + multicloud table is empty): `privatelink.` + the Arc host names of the cloud's tab of azure-arc/servers/network-requirements (and azure-arc/kubernetes/network-requirements for dp.kubernetesconfiguration), as in the Commercial row";
const STORAGE_NAMES_INFERRED: &str =
    "storage-account-overview's account name under the public zone the cloud's DNS table gives";

const fn doc(pattern: &'static str, page: &'static str) -> PublicName {
    PublicName {
        pattern,
        source: Source::Documented(page),
    }
}

const fn inferred(pattern: &'static str, how: &'static str) -> PublicName {
    PublicName {
        pattern,
        source: Source::Inferred(how),
    }
}

const fn zone(name: &'static str, serves: &'static [&'static str]) -> Zone {
    Zone {
        name,
        serves,
        also_used_by: &[],
    }
}

/// The group ids of the catalogue.
pub const GROUPS: [Group; 18] = [
    Group {
        group_id: "hybridcompute",
        service: "Azure Arc",
        resource_type: "Microsoft.HybridCompute/privateLinkScopes",
        one_endpoint_per_dns: Some(Source::Documented(ARC_SCOPE_LIMITS)),
    },
    Group {
        group_id: "azuremonitor",
        service: "Azure Monitor",
        resource_type: "Microsoft.Insights/privateLinkScopes",
        one_endpoint_per_dns: Some(Source::Documented(MONITOR_DESIGN)),
    },
    own_names("vault", "Azure Key Vault", "Microsoft.KeyVault/vaults"),
    own_names("blob", "Blob storage", STORAGE),
    own_names("blob_secondary", "Blob storage (secondary)", STORAGE),
    own_names("table", "Table storage", STORAGE),
    own_names("table_secondary", "Table storage (secondary)", STORAGE),
    own_names("queue", "Queue storage", STORAGE),
    own_names("queue_secondary", "Queue storage (secondary)", STORAGE),
    own_names("file", "Azure Files", STORAGE),
    own_names("file_secondary", "Azure Files (secondary)", STORAGE),
    own_names("web", "Static website", STORAGE),
    own_names("web_secondary", "Static website (secondary)", STORAGE),
    own_names("dfs", "Data Lake Storage", STORAGE),
    own_names("dfs_secondary", "Data Lake Storage (secondary)", STORAGE),
    own_names("Webhook", "Azure Automation webhooks", AUTOMATION),
    own_names(
        "DSCAndHybridWorker",
        "Azure Automation State Configuration and Hybrid Runbook Workers",
        AUTOMATION,
    ),
    Group {
        group_id: "ResourceManagement",
        service: "Azure Resource Manager",
        resource_type: "Microsoft.Authorization/resourceManagementPrivateLinks",
        one_endpoint_per_dns: Some(Source::Inferred(
            "every endpoint writes the one record `management` (management.azure.com) into privatelink.azure.com",
        )),
    },
];

const STORAGE: &str = "Microsoft.Storage/storageAccounts";
const AUTOMATION: &str = "Microsoft.Automation/automationAccounts";

/// A group whose endpoints each write their own resource's names.
const fn own_names(
    group_id: &'static str,
    service: &'static str,
    resource_type: &'static str,
) -> Group {
    Group {
        group_id,
        service,
        resource_type,
        one_endpoint_per_dns: None,
    }
}

/// Who else writes into the Commercial storage zones (the Commercial tables give them the same
/// zone names).
const BLOB_ALSO: &[&str] = &["disks", "volumegroup", "AzureBackup", "cluster"];
const QUEUE_ALSO: &[&str] = &["AzureBackup", "cluster"];
const TABLE_ALSO: &[&str] = &["cluster"];

/// One storage sub-resource in one cloud: zone `privatelink.<sub>.<suffix>`, names
/// `<account><name suffix>.<sub>.<suffix>`.
macro_rules! storage {
    ($group:literal, $sub:literal, $cloud:ident, $suffix:literal, $dns:expr, $also:expr, $names:expr) => {
        Entry {
            group_id: $group,
            cloud: KnownCloud::$cloud,
            zones: &[Zone {
                name: concat!("privatelink.", $sub, ".", $suffix),
                serves: &[concat!($sub, ".", $suffix)],
                also_used_by: $also,
            }],
            zones_source: Source::Documented($dns),
            extra_forwarders: &[],
            names: $names,
        }
    };
}

/// The account's name in a storage sub-resource's public zone.
macro_rules! account {
    ($account:literal, $sub:literal, $suffix:literal, $source:expr) => {
        &[PublicName {
            pattern: concat!("{name}", $account, ".", $sub, ".", $suffix),
            source: $source,
        }]
    };
}

/// Every group id in every cloud where Microsoft documents its zones (one line per storage
/// row: rustfmt would spread each over twelve).
#[rustfmt::skip]
pub const ENTRIES: &[Entry] = &[
    // Azure Arc.
    Entry {
        group_id: "hybridcompute",
        cloud: KnownCloud::AzureCloud,
        zones: &[
            zone("privatelink.his.arc.azure.com", &["his.arc.azure.com"]),
            zone(
                "privatelink.guestconfiguration.azure.com",
                &["guestconfiguration.azure.com"],
            ),
            zone(
                "privatelink.dp.kubernetesconfiguration.azure.com",
                &["dp.kubernetesconfiguration.azure.com"],
            ),
        ],
        zones_source: Source::Documented(DNS_COMMERCIAL),
        extra_forwarders: &[],
        names: &[
            doc("gbl.his.arc.azure.com", ARC_TROUBLESHOOTING),
            doc(
                "agentserviceapi.guestconfiguration.azure.com",
                ARC_TROUBLESHOOTING,
            ),
            doc("{regionCode}.his.arc.azure.com", ARC_K8S_NETWORK),
            doc("{region}-gas.guestconfiguration.azure.com", MACHINE_CONFIG),
            doc(
                "{region}.dp.kubernetesconfiguration.azure.com",
                ARC_K8S_NETWORK,
            ),
        ],
    },
    Entry {
        group_id: "hybridcompute",
        cloud: KnownCloud::AzureUSGovernment,
        zones: &[
            zone("privatelink.his.arc.azure.us", &["his.arc.azure.us"]),
            zone(
                "privatelink.guestconfiguration.azure.us",
                &["guestconfiguration.azure.us"],
            ),
            zone(
                "privatelink.dp.kubernetesconfiguration.azure.us",
                &["dp.kubernetesconfiguration.azure.us"],
            ),
        ],
        zones_source: Source::Inferred(ARC_ZONES_INFERRED),
        extra_forwarders: &[],
        names: &[
            doc("gbl.his.arc.azure.us", ARC_K8S_NETWORK),
            doc(
                "agentserviceapi.guestconfiguration.azure.us",
                MACHINE_CONFIG,
            ),
            // The page gives usgv.his.arc.azure.us (US Gov Virginia).
            doc("{regionCode}.his.arc.azure.us", ARC_K8S_NETWORK),
            doc("{region}-gas.guestconfiguration.azure.us", MACHINE_CONFIG),
            doc(
                "{region}.dp.kubernetesconfiguration.azure.us",
                ARC_K8S_NETWORK,
            ),
        ],
    },
    Entry {
        group_id: "hybridcompute",
        cloud: KnownCloud::AzureChinaCloud,
        zones: &[
            zone("privatelink.his.arc.azure.cn", &["his.arc.azure.cn"]),
            zone(
                "privatelink.guestconfiguration.azure.cn",
                &["guestconfiguration.azure.cn"],
            ),
            zone(
                "privatelink.dp.kubernetesconfiguration.azure.cn",
                &["dp.kubernetesconfiguration.azure.cn"],
            ),
        ],
        zones_source: Source::Inferred(ARC_ZONES_INFERRED),
        extra_forwarders: &[],
        names: &[
            inferred(
                "gbl.his.arc.azure.cn",
                "*.his.arc.azure.cn is documented (azure-arc/servers/network-requirements, 21Vianet tab); gbl as in the other clouds",
            ),
            doc(
                "agentserviceapi.guestconfiguration.azure.cn",
                MACHINE_CONFIG,
            ),
            inferred(
                "{regionCode}.his.arc.azure.cn",
                "*.his.arc.azure.cn is documented; the regional name as in the other clouds",
            ),
            doc("{region}-gas.guestconfiguration.azure.cn", MACHINE_CONFIG),
            inferred(
                "{region}.dp.kubernetesconfiguration.azure.cn",
                "no 21Vianet row in azure-arc/kubernetes/network-requirements; the Azure CLI's connectedk8s proxy bypass list for AzureChinaCloud",
            ),
        ],
    },
    // Azure Monitor. Not in the China tables: unconfirmed there.
    Entry {
        group_id: "azuremonitor",
        cloud: KnownCloud::AzureCloud,
        zones: &[
            zone("privatelink.monitor.azure.com", &["monitor.azure.com"]),
            zone(
                "privatelink.oms.opinsights.azure.com",
                &["oms.opinsights.azure.com"],
            ),
            zone(
                "privatelink.ods.opinsights.azure.com",
                &["ods.opinsights.azure.com"],
            ),
            zone(
                "privatelink.agentsvc.azure-automation.net",
                &["agentsvc.azure-automation.net"],
            ),
            Zone {
                name: "privatelink.blob.core.windows.net",
                serves: &["blob.core.windows.net"],
                also_used_by: BLOB_ALSO,
            },
        ],
        zones_source: Source::Documented(DNS_COMMERCIAL),
        extra_forwarders: &["services.visualstudio.com", "applicationinsights.azure.com"],
        names: &[
            doc("api.monitor.azure.com", MONITOR_DNS),
            doc("global.in.ai.monitor.azure.com", MONITOR_DNS),
            doc("live.monitor.azure.com", MONITOR_DNS),
            doc("profiler.monitor.azure.com", MONITOR_DNS),
            doc("snapshot.monitor.azure.com", MONITOR_DNS),
            doc("{workspaceId}.oms.opinsights.azure.com", MONITOR_DNS),
            doc("{workspaceId}.ods.opinsights.azure.com", MONITOR_DNS),
            doc("{workspaceId}.agentsvc.azure-automation.net", MONITOR_DNS),
        ],
    },
    Entry {
        group_id: "azuremonitor",
        cloud: KnownCloud::AzureUSGovernment,
        zones: &[
            zone("privatelink.monitor.azure.us", &["monitor.azure.us"]),
            zone(
                "privatelink.adx.monitor.azure.us",
                &["adx.monitor.azure.us"],
            ),
            zone(
                "privatelink.oms.opinsights.azure.us",
                &["oms.opinsights.azure.us"],
            ),
            zone(
                "privatelink.ods.opinsights.azure.us",
                &["ods.opinsights.azure.us"],
            ),
            zone(
                "privatelink.agentsvc.azure-automation.us",
                &["agentsvc.azure-automation.us"],
            ),
            zone(
                "privatelink.blob.core.usgovcloudapi.net",
                &["blob.core.usgovcloudapi.net"],
            ),
        ],
        zones_source: Source::Documented(DNS_GOVERNMENT),
        extra_forwarders: &[],
        names: &[
            inferred(
                "{workspaceId}.oms.opinsights.azure.us",
                "the Commercial workspace names under the Government zones",
            ),
            inferred(
                "{workspaceId}.ods.opinsights.azure.us",
                "the Commercial workspace names under the Government zones",
            ),
        ],
    },
    // Azure Key Vault.
    Entry {
        group_id: "vault",
        cloud: KnownCloud::AzureCloud,
        zones: &[zone(
            "privatelink.vaultcore.azure.net",
            &["vault.azure.net", "vaultcore.azure.net"],
        )],
        zones_source: Source::Documented(DNS_COMMERCIAL),
        extra_forwarders: &[],
        names: &[doc("{name}.vault.azure.net", KEYVAULT_HOSTS)],
    },
    Entry {
        group_id: "vault",
        cloud: KnownCloud::AzureUSGovernment,
        zones: &[zone(
            "privatelink.vaultcore.usgovcloudapi.net",
            &["vault.usgovcloudapi.net", "vaultcore.usgovcloudapi.net"],
        )],
        zones_source: Source::Documented(DNS_GOVERNMENT),
        extra_forwarders: &[],
        names: &[doc("{name}.vault.usgovcloudapi.net", KEYVAULT_HOSTS)],
    },
    Entry {
        group_id: "vault",
        cloud: KnownCloud::AzureChinaCloud,
        // The China table gives vaultcore.azure.cn alone; vault.azure.cn (the vaults' names)
        // is inferred from the other clouds' rows, which list both.
        zones: &[zone(
            "privatelink.vaultcore.azure.cn",
            &["vault.azure.cn", "vaultcore.azure.cn"],
        )],
        zones_source: Source::Documented(DNS_CHINA),
        extra_forwarders: &[],
        names: &[doc("{name}.vault.azure.cn", KEYVAULT_HOSTS)],
    },
    // Storage: one group id per sub-resource, one zone each; in Commercial, the account's name
    // is documented, in the other clouds inferred (STORAGE_NAMES_INFERRED).
    storage!("blob", "blob", AzureCloud, "core.windows.net", DNS_COMMERCIAL, BLOB_ALSO, account!("", "blob", "core.windows.net", Source::Documented(STORAGE_ENDPOINTS))),
    storage!("blob", "blob", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("", "blob", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("blob", "blob", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("", "blob", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("blob_secondary", "blob", AzureCloud, "core.windows.net", DNS_COMMERCIAL, BLOB_ALSO, account!("-secondary", "blob", "core.windows.net", Source::Documented(STORAGE_SECONDARY))),
    storage!("blob_secondary", "blob", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("-secondary", "blob", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("blob_secondary", "blob", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("-secondary", "blob", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("table", "table", AzureCloud, "core.windows.net", DNS_COMMERCIAL, TABLE_ALSO, account!("", "table", "core.windows.net", Source::Documented(STORAGE_ENDPOINTS))),
    storage!("table", "table", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("", "table", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("table", "table", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("", "table", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("table_secondary", "table", AzureCloud, "core.windows.net", DNS_COMMERCIAL, TABLE_ALSO, account!("-secondary", "table", "core.windows.net", Source::Documented(STORAGE_SECONDARY))),
    storage!("table_secondary", "table", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("-secondary", "table", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("table_secondary", "table", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("-secondary", "table", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("queue", "queue", AzureCloud, "core.windows.net", DNS_COMMERCIAL, QUEUE_ALSO, account!("", "queue", "core.windows.net", Source::Documented(STORAGE_ENDPOINTS))),
    storage!("queue", "queue", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("", "queue", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("queue", "queue", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("", "queue", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("queue_secondary", "queue", AzureCloud, "core.windows.net", DNS_COMMERCIAL, QUEUE_ALSO, account!("-secondary", "queue", "core.windows.net", Source::Documented(STORAGE_SECONDARY))),
    storage!("queue_secondary", "queue", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("-secondary", "queue", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("queue_secondary", "queue", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("-secondary", "queue", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("file", "file", AzureCloud, "core.windows.net", DNS_COMMERCIAL, &[], account!("", "file", "core.windows.net", Source::Documented(STORAGE_ENDPOINTS))),
    storage!("file", "file", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("", "file", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("file", "file", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("", "file", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    // The Commercial table lists `file` alone; the Government and China tables add
    // `file_secondary`.
    storage!("file_secondary", "file", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("-secondary", "file", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("file_secondary", "file", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("-secondary", "file", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    // A static website's host carries a zone identifier Azure picks (`<account>.z<nn>.web...`):
    // no name to predict.
    storage!("web", "web", AzureCloud, "core.windows.net", DNS_COMMERCIAL, &[], &[]),
    storage!("web", "web", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], &[]),
    storage!("web", "web", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], &[]),
    storage!("web_secondary", "web", AzureCloud, "core.windows.net", DNS_COMMERCIAL, &[], &[]),
    storage!("web_secondary", "web", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], &[]),
    storage!("web_secondary", "web", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], &[]),
    storage!("dfs", "dfs", AzureCloud, "core.windows.net", DNS_COMMERCIAL, &[], account!("", "dfs", "core.windows.net", Source::Documented(STORAGE_ENDPOINTS))),
    storage!("dfs", "dfs", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("", "dfs", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("dfs", "dfs", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("", "dfs", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("dfs_secondary", "dfs", AzureCloud, "core.windows.net", DNS_COMMERCIAL, &[], account!("-secondary", "dfs", "core.windows.net", Source::Documented(STORAGE_SECONDARY))),
    storage!("dfs_secondary", "dfs", AzureUSGovernment, "core.usgovcloudapi.net", DNS_GOVERNMENT, &[], account!("-secondary", "dfs", "core.usgovcloudapi.net", Source::Inferred(STORAGE_NAMES_INFERRED))),
    storage!("dfs_secondary", "dfs", AzureChinaCloud, "core.chinacloudapi.cn", DNS_CHINA, &[], account!("-secondary", "dfs", "core.chinacloudapi.cn", Source::Inferred(STORAGE_NAMES_INFERRED))),
    // Azure Automation: two group ids, one endpoint each, one zone shared by both. The
    // Automation page says private link is available only in Commercial and Government; the
    // China table lists the zone nevertheless.
    Entry {
        group_id: "Webhook",
        cloud: KnownCloud::AzureCloud,
        zones: AUTOMATION_COM,
        zones_source: Source::Documented(DNS_COMMERCIAL),
        extra_forwarders: &[],
        names: &[doc(
            "{accountId}.webhooks.{regionCode}.azure-automation.net",
            AUTOMATION_HOSTS,
        )],
    },
    Entry {
        group_id: "Webhook",
        cloud: KnownCloud::AzureUSGovernment,
        zones: AUTOMATION_GOV,
        zones_source: Source::Documented(DNS_GOVERNMENT),
        extra_forwarders: &[],
        names: &[],
    },
    Entry {
        group_id: "Webhook",
        cloud: KnownCloud::AzureChinaCloud,
        zones: AUTOMATION_CHINA,
        zones_source: Source::Documented(DNS_CHINA),
        extra_forwarders: &[],
        names: &[],
    },
    Entry {
        group_id: "DSCAndHybridWorker",
        cloud: KnownCloud::AzureCloud,
        zones: AUTOMATION_COM,
        zones_source: Source::Documented(DNS_COMMERCIAL),
        extra_forwarders: &[],
        names: &[
            doc(
                "{accountId}.jrds.{regionCode}.azure-automation.net",
                AUTOMATION_HOSTS,
            ),
            doc(
                "{accountId}.agentsvc.{regionCode}.azure-automation.net",
                AUTOMATION_HOSTS,
            ),
        ],
    },
    Entry {
        group_id: "DSCAndHybridWorker",
        cloud: KnownCloud::AzureUSGovernment,
        zones: AUTOMATION_GOV,
        zones_source: Source::Documented(DNS_GOVERNMENT),
        extra_forwarders: &[],
        names: &[],
    },
    Entry {
        group_id: "DSCAndHybridWorker",
        cloud: KnownCloud::AzureChinaCloud,
        zones: AUTOMATION_CHINA,
        zones_source: Source::Documented(DNS_CHINA),
        extra_forwarders: &[],
        names: &[],
    },
    // Azure Resource Manager: Commercial only (no row in the Government and China tables).
    Entry {
        group_id: "ResourceManagement",
        cloud: KnownCloud::AzureCloud,
        zones: &[zone("privatelink.azure.com", &["azure.com"])],
        zones_source: Source::Documented(DNS_COMMERCIAL),
        extra_forwarders: &[],
        names: &[doc("management.azure.com", RMPL_HOSTS)],
    },
];

const AUTOMATION_COM: &[Zone] = &[zone(
    "privatelink.azure-automation.net",
    &["azure-automation.net"],
)];
const AUTOMATION_GOV: &[Zone] = &[zone(
    "privatelink.azure-automation.us",
    &["azure-automation.us"],
)];
const AUTOMATION_CHINA: &[Zone] = &[zone(
    "privatelink.azure-automation.cn",
    &["azure-automation.cn"],
)];
