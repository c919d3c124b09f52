//! Connector configuration: declared settings and their validation ([`def`]), secrets kept out of answers and logs
//! ([`mask`]), and config providers resolved at task start ([`providers`]).

pub mod def;
pub mod mask;
pub mod providers;

pub use def::{ConfigDef, ConfigKey, ConfigType, FieldError, Validator};
pub use mask::{is_secret, masked, HIDDEN};
pub use providers::{is_reference, resolve, ProviderError};
