//! Azure clouds: the per-cloud table (ARM endpoint, Entra authority, the hosts the Connected
//! Machine agent reaches, each with its source) and the [`Cloud`] the ARM client talks to.
//! Arc's service names and private DNS zones per cloud are the `hybridcompute` rows of the zone
//! catalogue ([`super::catalogue`]), which this table extends to the other private-link
//! targets.

use url::Url;

use super::catalogue::{self, PublicName, Zone};

/// Where a value of the cloud table or the zone catalogue comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Microsoft's documentation: the page (and section) that gives the value.
    Documented(&'static str),
    /// Not found in Microsoft's documentation: how the value was derived.
    Inferred(&'static str),
}

impl Source {
    pub fn is_inferred(self) -> bool {
        matches!(self, Source::Inferred(_))
    }

    /// The page, or the derivation.
    pub fn text(self) -> &'static str {
        match self {
            Source::Documented(s) | Source::Inferred(s) => s,
        }
    }
}

/// A value of the table with its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sourced<T: 'static> {
    pub value: T,
    pub source: Source,
}

const fn documented<T>(value: T, page: &'static str) -> Sourced<T> {
    Sourced {
        value,
        source: Source::Documented(page),
    }
}

/// Arc's network requirements (the Connected Machine agent's URLs, one tab per cloud).
pub const ARC_NETWORK: &str = "learn.microsoft.com azure-arc/servers/network-requirements, URLs (tabs Azure cloud platform, Azure Government, Azure operated by 21Vianet; ms.date 2026-09-23)";
/// Arc's private link page, "Connect to an Azure Arc-enabled server" (the tip on public traffic).
pub const ARC_PRIVATE_LINK: &str = "learn.microsoft.com azure-arc/servers/private-link-security, Connect to an Azure Arc-enabled server (ms.date 2025-04-23)";

/// The clouds of the table, by the names the Connected Machine agent uses (`azcmagent connect
/// --cloud`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KnownCloud {
    #[default]
    AzureCloud,
    AzureUSGovernment,
    AzureChinaCloud,
}

/// One row of the per-cloud table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloudRow {
    pub cloud: KnownCloud,
    /// The built-in [`Cloud`]'s name (the `--cloud` value its documentation gives).
    pub name: &'static str,
    /// Other spellings `--cloud` accepts (compared without case).
    pub aliases: &'static [&'static str],
    /// Azure Resource Manager; also the token audience (`{arm}/.default`).
    pub arm_endpoint: Sourced<&'static str>,
    /// Microsoft Entra ID's authority host, where tokens are requested.
    pub authority_host: Sourced<&'static str>,
    /// The Entra ID hosts the Connected Machine agent reaches over the internet (they have no
    /// private endpoint), for the onboarding notes.
    pub agent_entra_hosts: Sourced<&'static [&'static str]>,
}

/// The per-cloud table.
pub const CLOUDS: [CloudRow; 3] = [
    CloudRow {
        cloud: KnownCloud::AzureCloud,
        name: "AzurePublicCloud",
        aliases: &["public"],
        arm_endpoint: documented("https://management.azure.com/", ARC_NETWORK),
        authority_host: documented("https://login.microsoftonline.com/", ARC_NETWORK),
        agent_entra_hosts: documented(
            &[
                "login.windows.net",
                "login.microsoftonline.com",
                "pas.windows.net",
            ],
            ARC_PRIVATE_LINK,
        ),
    },
    CloudRow {
        cloud: KnownCloud::AzureUSGovernment,
        name: "AzureUSGovernment",
        aliases: &["AzureUSGovernmentCloud", "usgovernment"],
        arm_endpoint: documented("https://management.usgovcloudapi.net/", ARC_NETWORK),
        authority_host: documented("https://login.microsoftonline.us/", ARC_NETWORK),
        agent_entra_hosts: documented(
            &["login.microsoftonline.us", "pasff.usgovcloudapi.net"],
            ARC_NETWORK,
        ),
    },
    CloudRow {
        cloud: KnownCloud::AzureChinaCloud,
        name: "AzureChinaCloud",
        aliases: &["china"],
        arm_endpoint: documented("https://management.chinacloudapi.cn/", ARC_NETWORK),
        authority_host: documented("https://login.chinacloudapi.cn/", ARC_NETWORK),
        agent_entra_hosts: documented(
            &[
                "login.chinacloudapi.cn",
                "login.partner.chinacloudapi.cn",
                "pas.chinacloudapi.cn",
            ],
            ARC_NETWORK,
        ),
    },
];

impl KnownCloud {
    pub const ALL: [KnownCloud; 3] = [
        KnownCloud::AzureCloud,
        KnownCloud::AzureUSGovernment,
        KnownCloud::AzureChinaCloud,
    ];

    /// The cloud's row of the table.
    pub fn row(self) -> &'static CloudRow {
        match self {
            KnownCloud::AzureCloud => &CLOUDS[0],
            KnownCloud::AzureUSGovernment => &CLOUDS[1],
            KnownCloud::AzureChinaCloud => &CLOUDS[2],
        }
    }

    /// The name of `azcmagent connect --cloud`.
    pub fn agent_name(self) -> &'static str {
        match self {
            KnownCloud::AzureCloud => "AzureCloud",
            KnownCloud::AzureUSGovernment => "AzureUSGovernment",
            KnownCloud::AzureChinaCloud => "AzureChinaCloud",
        }
    }

    /// The cloud `--cloud name` means: the built-in name, the agent's name or an alias,
    /// compared without case.
    pub fn by_name(name: &str) -> Option<KnownCloud> {
        KnownCloud::ALL.into_iter().find(|c| {
            let row = c.row();
            std::iter::once(row.name)
                .chain(std::iter::once(c.agent_name()))
                .chain(row.aliases.iter().copied())
                .any(|n| n.eq_ignore_ascii_case(name))
        })
    }

    /// The cloud of an agent name exactly as [`KnownCloud::agent_name`] spells it.
    pub fn by_agent_name(name: &str) -> Option<KnownCloud> {
        KnownCloud::ALL.into_iter().find(|c| c.agent_name() == name)
    }

    /// The cloud whose Arc zones and names apply for an agent cloud name; a cloud outside the
    /// table (the emulator) stands in for `AzureCloud`, as [`Cloud::agent_name`] says.
    pub fn for_agent(name: &str) -> KnownCloud {
        KnownCloud::by_agent_name(name).unwrap_or_default()
    }

    /// ARM's host (`management.azure.com`), which the agent reaches over the internet unless
    /// a resource management private link serves it.
    pub fn arm_host(self) -> &'static str {
        host_of(self.row().arm_endpoint.value)
    }

    /// Arc's private DNS zones in this cloud (the catalogue's `hybridcompute` row).
    pub fn arc_zones(self) -> &'static [Zone] {
        catalogue::zones(self, catalogue::HYBRID_COMPUTE).unwrap_or_default()
    }

    /// The Arc service names the agent reaches in this cloud (his, guestconfiguration,
    /// kubernetesconfiguration), with placeholders such as `{region}`.
    pub fn arc_names(self) -> &'static [PublicName] {
        catalogue::entry(self, catalogue::HYBRID_COMPUTE).map_or(&[], |e| e.names)
    }
}

/// `https://management.azure.com/` -> `management.azure.com`.
fn host_of(url: &'static str) -> &'static str {
    let rest = url.strip_prefix("https://").unwrap_or(url);
    rest.split('/').next().unwrap_or(rest)
}

/// The cloud the ARM client talks to: the table's endpoints, or a custom cloud's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cloud {
    pub name: String,
    pub arm_endpoint: Url,
    pub authority_host: Url,
    /// Token audience; the requested scope is `{audience}/.default`.
    pub audience: String,
}

impl Cloud {
    /// The built-in cloud of the table's row.
    pub fn of(known: KnownCloud) -> Cloud {
        let row = known.row();
        let (arm, authority) = (row.arm_endpoint.value, row.authority_host.value);
        Cloud {
            name: row.name.to_string(),
            // The table's URLs are valid; a failure here is a programming error caught by tests.
            arm_endpoint: Url::parse(arm).unwrap_or_else(|e| panic!("built-in ARM URL {arm}: {e}")),
            authority_host: Url::parse(authority)
                .unwrap_or_else(|e| panic!("built-in authority URL {authority}: {e}")),
            audience: arm.trim_end_matches('/').to_string(),
        }
    }

    #[allow(non_snake_case)]
    pub fn AzurePublicCloud() -> Cloud {
        Cloud::of(KnownCloud::AzureCloud)
    }

    #[allow(non_snake_case)]
    pub fn AzureUSGovernment() -> Cloud {
        Cloud::of(KnownCloud::AzureUSGovernment)
    }

    #[allow(non_snake_case)]
    pub fn AzureChinaCloud() -> Cloud {
        Cloud::of(KnownCloud::AzureChinaCloud)
    }

    /// A cloud with its own endpoints, e.g. the emulator (ARM endpoint = authority host).
    pub fn custom(name: &str, arm_endpoint: Url, authority_host: Url, audience: &str) -> Cloud {
        Cloud {
            name: name.to_string(),
            arm_endpoint,
            authority_host,
            audience: audience.to_string(),
        }
    }

    /// Looks a cloud up by the names Azure tools use (`AzureCloud`, `AzureUSGovernment`, ...).
    pub fn by_name(name: &str) -> Option<Cloud> {
        KnownCloud::by_name(name).map(Cloud::of)
    }

    /// The table's cloud this is, by name; `None` for a custom cloud.
    pub fn known(&self) -> Option<KnownCloud> {
        KnownCloud::ALL
            .into_iter()
            .find(|c| c.row().name == self.name)
    }

    /// The cloud's name for the Connected Machine agent (`azcmagent connect --cloud`); a
    /// custom cloud (the emulator) stands in for the public one.
    pub fn agent_name(&self) -> &'static str {
        self.known().unwrap_or_default().agent_name()
    }

    /// The OAuth scope for ARM in this cloud.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.audience.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests;
