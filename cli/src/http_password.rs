//! Hashed passwords for `--http-auth-file`: `SCRAM-SHA-256$ITERATIONS$SALT$STORED_KEY$SERVER_KEY` (the byte fields
//! in base64), the PBKDF2-based credential the brokers keep for their SCRAM users, so the file need not hold the
//! password itself. `tidemark http-user` makes such a line. Checking a password costs a PBKDF2 run, so the digest
//! of the last password that passed is remembered and a caller repeating it is checked by the digest alone.

use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::digest;
use tidemark_broker::security::scram::{ScramCredential, ScramMechanism};

/// What a hashed password starts with.
const PREFIX: &str = "SCRAM-SHA-256$";
/// PBKDF2 iterations of a hashed password made by [`hash`].
pub const ITERATIONS: i32 = 8192;

/// A hashed password of the auth file.
#[derive(Debug)]
pub struct HashedPassword {
    credential: ScramCredential,
    /// SHA-256 of the last password that passed.
    passed: Mutex<Option<Vec<u8>>>,
}

/// Whether an auth file's password field is a hashed one.
pub fn is_hashed(field: &str) -> bool {
    field.starts_with(PREFIX)
}

/// `tidemark http-user`: prints the auth-file line of user `name` with `role` and the password read from standard
/// input, hashed.
pub fn print_line(name: &str, role: &str) -> Result<()> {
    if name.is_empty() || name.contains(':') {
        bail!("a user name cannot be empty or hold ':'");
    }
    let password = crate::users::read_password()?;
    println!("user:{name}:{}:{role}", hash(&password));
    Ok(())
}

/// The hashed form of `password`, with a fresh random salt.
pub fn hash(password: &str) -> String {
    let credential = ScramCredential::generate(ScramMechanism::Sha256, password, ITERATIONS);
    let fields = [&credential.salt, &credential.stored_key, &credential.server_key].map(|bytes| STANDARD.encode(bytes));
    format!("{PREFIX}{}${}", credential.iterations, fields.join("$"))
}

impl HashedPassword {
    /// Reads a field [`hash`] made.
    pub fn parse(field: &str) -> Result<Self> {
        let rest = field.strip_prefix(PREFIX).context("not a hashed password")?;
        let parts: Vec<&str> = rest.split('$').collect();
        let [iterations, salt, stored_key, server_key] = parts.as_slice() else {
            bail!("a hashed password is {PREFIX}ITERATIONS$SALT$STORED_KEY$SERVER_KEY");
        };
        let iterations: i32 = iterations.parse().context("the iterations of a hashed password")?;
        if iterations < 1 {
            bail!("a hashed password needs at least one iteration");
        }
        let decode =
            |what: &str, text: &str| STANDARD.decode(text).with_context(|| format!("the {what} is not base64"));
        let credential = ScramCredential {
            mechanism: ScramMechanism::Sha256,
            iterations,
            salt: decode("salt", salt)?,
            stored_key: decode("stored key", stored_key)?,
            server_key: decode("server key", server_key)?,
        };
        Ok(HashedPassword { credential, passed: Mutex::new(None) })
    }

    /// Whether `password` is the hashed one.
    pub fn matches(&self, password: &str) -> bool {
        let digest = digest::digest(&digest::SHA256, password.as_bytes()).as_ref().to_vec();
        let mut passed = self.passed.lock().unwrap_or_else(|p| p.into_inner());
        // Digests, not passwords: how long comparing them takes tells nothing of the password.
        if passed.as_deref() == Some(digest.as_slice()) {
            return true;
        }
        let matches = self.credential.verify_password(password);
        if matches {
            *passed = Some(digest);
        }
        matches
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_matches_only_its_password_and_holds_no_trace_of_it() {
        let field = hash("s3cret-Pw");
        assert!(is_hashed(&field) && !field.contains("s3cret") && !field.contains(':'), "{field}");
        let hashed = HashedPassword::parse(&field).unwrap();
        for _ in 0..2 {
            assert!(hashed.matches("s3cret-Pw"), "checked by PBKDF2, then by the remembered digest");
            assert!(!hashed.matches("s3cret-pw"));
            assert!(!hashed.matches(""));
        }
        assert_ne!(hash("s3cret-Pw"), field, "a fresh salt each time");
    }

    #[test]
    fn malformed_fields_are_refused_with_a_reason() {
        for bad in
            ["SCRAM-SHA-256$", "SCRAM-SHA-256$x$a$b$c", "SCRAM-SHA-256$0$YQ==$YQ==$YQ==", "SCRAM-SHA-256$1$!$a$b"]
        {
            assert!(HashedPassword::parse(bad).is_err(), "{bad}");
        }
        assert!(!is_hashed("plain-password"));
    }
}
