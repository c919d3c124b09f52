//! The principal of a client certificate, as Kafka's default `SslPrincipalMapper` names it: `User:` and the
//! certificate's subject in RFC 2253 form (`CN=client,OU=eng,O=Acme,C=US`: the last RDN first, as Java's
//! `X500Principal.getName()` writes it).
//!
//! rustls-webpki (already under rustls) finds the subject in the certificate; reading the subject's RDNs is the
//! small DER walk below. The x509 crates that do it would add a second `const-oid` to the build for these few lines.

use rustls::pki_types::CertificateDer;

/// Attribute types RFC 2253 names, by the DER bytes of their OIDs.
const NAMES: &[(&[u8], &str)] = &[
    (&[0x55, 0x04, 0x03], "CN"),
    (&[0x55, 0x04, 0x06], "C"),
    (&[0x55, 0x04, 0x07], "L"),
    (&[0x55, 0x04, 0x08], "ST"),
    (&[0x55, 0x04, 0x09], "STREET"),
    (&[0x55, 0x04, 0x0a], "O"),
    (&[0x55, 0x04, 0x0b], "OU"),
    (&[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19], "DC"),
    (&[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01], "UID"),
];

/// The subject of `certificate` in RFC 2253 form; `None` when the certificate or its subject does not parse.
pub fn subject_name(certificate: &CertificateDer<'_>) -> Option<String> {
    let parsed = webpki::EndEntityCert::try_from(certificate).ok()?;
    let mut rdns = Vec::new();
    let mut rest = parsed.subject();
    while !rest.is_empty() {
        let (tag, set, after) = tlv(rest)?;
        if tag != 0x31 {
            return None;
        }
        let mut attributes = Vec::new();
        let mut in_set = set;
        while !in_set.is_empty() {
            let (tag, attribute, after_attribute) = tlv(in_set)?;
            if tag != 0x30 {
                return None;
            }
            attributes.push(attribute_text(attribute)?);
            in_set = after_attribute;
        }
        rdns.push(attributes.join("+"));
        rest = after;
    }
    rdns.reverse();
    Some(rdns.join(","))
}

/// `TYPE=value` of one AttributeTypeAndValue (its contents).
fn attribute_text(attribute: &[u8]) -> Option<String> {
    let (tag, oid, rest) = tlv(attribute)?;
    if tag != 0x06 {
        return None;
    }
    let (value_tag, value, after_value) = tlv(rest)?;
    let element = &rest[..rest.len() - after_value.len()];
    let known = NAMES.iter().find(|(bytes, _)| *bytes == oid).map(|(_, name)| *name);
    let text = match value_tag {
        // UTF8String, PrintableString, IA5String, TeletexString (read as Latin-1 would be wrong only for bytes
        // past ASCII, which such certificates do not carry in practice).
        0x0c | 0x13 | 0x16 | 0x14 if known.is_some() => escape(&String::from_utf8_lossy(value)),
        // RFC 2253: other types, and values of unnamed attributes, as `#` and the DER encoding in hex.
        _ => format!("#{}", hex(element)),
    };
    Some(format!("{}={text}", known.map_or_else(|| dotted(oid), str::to_owned)))
}

/// One DER element: its tag, its contents and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = match first {
        short if short < 0x80 => (usize::from(short), rest),
        long => {
            let count = usize::from(long & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let length = rest[..count].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (length, &rest[count..])
        }
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// RFC 2253's escaping of an attribute value.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let edge = (i == 0 && (c == '#' || c == ' ')) || (i + 1 == value.chars().count() && c == ' ');
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// An OID's dotted-decimal form.
fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value = 0u64;
    for &byte in oid {
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.extend([first, value - first * 40]);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;

    fn certificate(path: &std::path::Path) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(path).expect("PEM")
    }

    #[test]
    fn a_client_certificates_subject_reads_as_kafka_names_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let certificates = tidemark_tests::tls::Certificates::generate(dir.path(), "dn", "alice, \"the\" admin")
            .expect("certificates");
        let name = subject_name(&certificate(&certificates.client_cert)).expect("subject");
        assert_eq!(name, "CN=alice\\, \\\"the\\\" admin");
        let server = subject_name(&certificate(&certificates.server_cert)).expect("subject");
        assert_eq!(server, "CN=localhost");
    }

    #[test]
    fn oids_escapes_and_malformed_input() {
        assert_eq!(dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]), "1.2.840.113549.1.9.1");
        assert_eq!(escape("#a b "), "\\#a b\\ ");
        assert_eq!(tlv(&[0x30, 0x82, 0x00]), None);
        assert_eq!(tlv(&[0x04, 0x02, 0xaa]), None);
        assert_eq!(tlv(&[0x04, 0x81, 0x01, 0xaa, 0xbb]), Some((0x04, &[0xaa][..], &[0xbb][..])));
        assert_eq!(subject_name(&CertificateDer::from(vec![0x30, 0x03, 0x01, 0x01, 0x00])), None);
    }
}
