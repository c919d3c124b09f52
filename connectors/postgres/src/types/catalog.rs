//! Filling a [`ColumnType`] from the catalog: a pgoutput Relation message gives a column's type oid and modifier;
//! `pg_type` says what the type is built on.
//!
//! For the type's oid:
//! ```sql
//! SELECT t.typname, t.typtype, t.typlen, t.typelem, t.typbasetype, t.typtypmod,
//!        ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
//! FROM pg_type t WHERE t.oid = $1
//! ```
//! - `typtype = 'd'` (a domain): `base` is the type `typbasetype` with the modifier `typtypmod`, loaded the same
//!   way (a domain may be over another domain, or over an array).
//! - `typlen = -1` and `typelem <> 0` (an array): `element` is the type `typelem`, with the column's modifier
//!   (which PostgreSQL keeps for the element: `numeric(10,2)[]` has the modifier of `numeric(10,2)`).
//! - `typtype = 'e'` (an enum): `enum_values` are the labels in `enumsortorder`.
//!
//! Built-in array types are recognised without `element`, so only user and extension types need the lookup; the
//! source may cache the result by oid until a Type or Relation message says the type changed.

use tokio_postgres::GenericClient;

use super::ColumnType;

/// How deep domains and arrays may nest before the catalog is taken to be inconsistent.
const MAX_DEPTH: usize = 16;

/// The query above.
const TYPE_QUERY: &str = "SELECT t.typname::text, t.typtype, t.typlen, t.typelem, t.typbasetype, t.typtypmod, \
     ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) \
     FROM pg_catalog.pg_type t WHERE t.oid = $1";

/// Why a type could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The query failed.
    #[error("reading type {oid} from pg_type: {source}")]
    Query {
        /// The type's oid.
        oid: u32,
        /// The client's error.
        source: tokio_postgres::Error,
    },
    /// No such type (dropped since the Relation message, or a wrong oid).
    #[error("type {0} is not in pg_type")]
    Missing(u32),
    /// Domains or arrays nested deeper than PostgreSQL allows.
    #[error("type {0} nests domains or arrays more than {MAX_DEPTH} deep")]
    TooDeep(u32),
}

/// The [`ColumnType`] of a column of type `oid` with `modifier` (from a Relation message or `pg_attribute`), with
/// its domain base, array element and enum labels filled in from the catalog.
pub async fn load_column_type(
    client: &impl GenericClient,
    oid: u32,
    modifier: i32,
) -> Result<ColumnType, CatalogError> {
    // Walk down domains and arrays iteratively, then assemble the chain bottom-up.
    let mut chain: Vec<(ColumnType, Link)> = Vec::new();
    let (mut oid, mut modifier) = (oid, modifier);
    loop {
        if chain.len() > MAX_DEPTH {
            return Err(CatalogError::TooDeep(oid));
        }
        let row = client.query_opt(TYPE_QUERY, &[&oid]).await.map_err(|source| CatalogError::Query { oid, source })?;
        let row = row.ok_or(CatalogError::Missing(oid))?;
        let query = |source| CatalogError::Query { oid, source };
        let name: String = row.try_get(0).map_err(query)?;
        let typtype: i8 = row.try_get(1).map_err(query)?;
        let typlen: i16 = row.try_get(2).map_err(query)?;
        let typelem: u32 = row.try_get(3).map_err(query)?;
        let typbasetype: u32 = row.try_get(4).map_err(query)?;
        let typtypmod: i32 = row.try_get(5).map_err(query)?;
        let labels: Vec<String> = row.try_get(6).map_err(query)?;
        let mut ty = ColumnType::new(oid, modifier, name);
        let link = if typtype == b'd' as i8 {
            (oid, modifier) = (typbasetype, typtypmod);
            Link::Base
        } else if typlen == -1 && typelem != 0 {
            oid = typelem;
            Link::Element
        } else {
            if typtype == b'e' as i8 {
                ty.enum_values = Some(labels);
            }
            Link::None
        };
        let done = matches!(link, Link::None);
        chain.push((ty, link));
        if done {
            break;
        }
    }
    let mut below: Option<ColumnType> = None;
    while let Some((mut ty, link)) = chain.pop() {
        match link {
            Link::Base => ty.base = below.take().map(Box::new),
            Link::Element => ty.element = below.take().map(Box::new),
            Link::None => {}
        }
        below = Some(ty);
    }
    below.ok_or(CatalogError::Missing(oid))
}

/// How a type in the chain refers to the next one down.
enum Link {
    Base,
    Element,
    None,
}
