//! `--config FILE`: a TOML table of flag values, applied as `TIDEMARK_<FLAG>` environment defaults before the
//! command line is parsed, so flags and real environment variables win over the file.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// Finds `--config` on the raw command line (or `TIDEMARK_CONFIG`) and exports the file's values.
pub fn apply_from_args(args: &[String]) -> Result<()> {
    let from_flag = args.iter().enumerate().find_map(|(i, arg)| {
        arg.strip_prefix("--config=")
            .map(str::to_owned)
            .or_else(|| (arg == "--config").then(|| args.get(i + 1).cloned()).flatten())
    });
    match from_flag.or_else(|| std::env::var("TIDEMARK_CONFIG").ok()) {
        Some(path) => apply(Path::new(&path)),
        None => Ok(()),
    }
}

fn apply(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
    let table: toml::Table = text.parse().with_context(|| format!("parsing config file {}", path.display()))?;
    for (key, value) in table {
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => bail!("config file {}: '{key}' must be a string, integer or boolean, not {other}", path.display()),
        };
        let var = format!("TIDEMARK_{}", key.to_uppercase().replace('-', "_"));
        if std::env::var_os(&var).is_none() {
            std::env::set_var(var, value);
        }
    }
    Ok(())
}
