//! Azure clouds: ARM endpoint, Entra authority and token audience.

use url::Url;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cloud {
    pub name: String,
    pub arm_endpoint: Url,
    pub authority_host: Url,
    /// Token audience; the requested scope is `{audience}/.default`.
    pub audience: String,
}

fn known(name: &str, arm: &str, authority: &str) -> Cloud {
    Cloud {
        name: name.to_string(),
        // The literals below are valid URLs; a failure here is a programming error caught by tests.
        arm_endpoint: Url::parse(arm).unwrap_or_else(|e| panic!("built-in ARM URL {arm}: {e}")),
        authority_host: Url::parse(authority)
            .unwrap_or_else(|e| panic!("built-in authority URL {authority}: {e}")),
        audience: arm.trim_end_matches('/').to_string(),
    }
}

impl Cloud {
    #[allow(non_snake_case)]
    pub fn AzurePublicCloud() -> Cloud {
        known(
            "AzurePublicCloud",
            "https://management.azure.com/",
            "https://login.microsoftonline.com/",
        )
    }

    #[allow(non_snake_case)]
    pub fn AzureUSGovernment() -> Cloud {
        known(
            "AzureUSGovernment",
            "https://management.usgovcloudapi.net/",
            "https://login.microsoftonline.us/",
        )
    }

    #[allow(non_snake_case)]
    pub fn AzureChinaCloud() -> Cloud {
        known(
            "AzureChinaCloud",
            "https://management.chinacloudapi.cn/",
            "https://login.chinacloudapi.cn/",
        )
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
        match name.to_ascii_lowercase().as_str() {
            "azurepubliccloud" | "azurecloud" | "public" => Some(Cloud::AzurePublicCloud()),
            "azureusgovernment" | "azureusgovernmentcloud" | "usgovernment" => {
                Some(Cloud::AzureUSGovernment())
            }
            "azurechinacloud" | "china" => Some(Cloud::AzureChinaCloud()),
            _ => None,
        }
    }

    /// The cloud's name for the Connected Machine agent (`azcmagent connect --cloud`); a
    /// custom cloud (the emulator) stands in for the public one.
    pub fn agent_name(&self) -> &'static str {
        match self.name.as_str() {
            "AzureUSGovernment" => "AzureUSGovernment",
            "AzureChinaCloud" => "AzureChinaCloud",
            _ => "AzureCloud",
        }
    }

    /// The OAuth scope for ARM in this cloud.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.audience.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
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
}
