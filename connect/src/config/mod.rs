//! Connector configuration: declared settings and their validation ([`def`]), secrets kept out of answers and logs
//! ([`mask`]), config providers resolved at task start ([`providers`]), and validation answers in Kafka Connect's
//! shapes ([`report`]).

pub mod def;
pub mod mask;
pub mod providers;
pub mod report;

pub use def::{ConfigDef, ConfigKey, ConfigType, FieldError, Importance, Validator};
pub use mask::{is_secret, masked, HIDDEN};
pub use providers::{is_reference, parse_properties, resolve, ProviderError};
pub use report::{config_infos, invalid_config_message};
