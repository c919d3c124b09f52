//! The SQL each database is written with: quoted names, column types for new columns, and the multi-row statements
//! (insert, upsert, update, delete) a batch is written with, their parameters row after row, key columns first.
//!
//! | statement | Postgres | MySQL / MariaDB |
//! |---|---|---|
//! | upsert | `INSERT ... ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c` | `INSERT ... ON DUPLICATE KEY UPDATE c = VALUES(c)` |
//! | update | `UPDATE t SET c = r.c FROM (VALUES ($1::type, ...), ...) AS r (...) WHERE t.key = r.key` | `UPDATE t JOIN (SELECT ? AS key, ? AS c UNION ALL SELECT ?, ?) AS r ON t.key = r.key SET t.c = r.c` |
//! | delete | `DELETE FROM t WHERE (key) IN (($1), ...)` | the same with `?` |
//!
//! Postgres also gets many rows at once through COPY (`crate::db::postgres::bulk`): `COPY t (...) FROM STDIN`.

use std::fmt::{self, Write};

use crate::kind::Kind;

/// The database a sink writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Postgres => "Postgres",
            Dialect::MySql => "MySQL",
        })
    }
}

/// A column of a table to create or to add.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef<'a> {
    /// Its name.
    pub name: &'a str,
    /// What it holds.
    pub kind: &'a Kind,
    /// Whether it may hold NULL.
    pub nullable: bool,
    /// Whether it is part of the primary key.
    pub key: bool,
}

/// The alias of the rows an `UPDATE` joins.
const ROWS: &str = "__tidemark_rows";

impl Dialect {
    /// The port its servers listen on by default.
    pub fn default_port(self) -> u16 {
        match self {
            Dialect::Postgres => 5432,
            Dialect::MySql => 3306,
        }
    }

    /// A name quoted: `"name"` or `` `name` ``, the quote character doubled inside.
    pub fn quote(self, name: &str) -> String {
        let quote = match self {
            Dialect::Postgres => '"',
            Dialect::MySql => '`',
        };
        let mut out = String::with_capacity(name.len() + 2);
        out.push(quote);
        for c in name.chars() {
            out.push(c);
            if c == quote {
                out.push(quote);
            }
        }
        out.push(quote);
        out
    }

    /// The name a table or column of `name` gets: Postgres folds unquoted names to lower case, so they are
    /// lower-cased unless `keep_case` (`quote.identifiers`); MySQL keeps them as they are.
    pub fn fold(self, name: &str, keep_case: bool) -> String {
        match self {
            Dialect::Postgres if !keep_case => name.to_ascii_lowercase(),
            _ => name.to_owned(),
        }
    }

    /// Whether two column names are the same column: exactly in Postgres, regardless of case in MySQL.
    pub fn same_column(self, a: &str, b: &str) -> bool {
        match self {
            Dialect::Postgres => a == b,
            Dialect::MySql => a.eq_ignore_ascii_case(b),
        }
    }

    /// The SQL type of a new column of `kind`; MySQL key columns of text or bytes get a length (`TEXT` and `BLOB`
    /// cannot be keys).
    pub fn column_type(self, kind: &Kind, key: bool) -> String {
        match self {
            Dialect::Postgres => postgres_type(kind),
            Dialect::MySql => mysql_type(kind, key),
        }
    }

    fn placeholder(self, out: &mut String, number: usize) {
        match self {
            Dialect::Postgres => {
                let _ = write!(out, "${number}");
            }
            Dialect::MySql => out.push('?'),
        }
    }

    /// `(p1, p2), (p3, p4), ...`: `rows` tuples of `width` placeholders, each followed by `::cast` when given.
    fn tuples(self, out: &mut String, rows: usize, width: usize, casts: &[&str]) {
        for row in 0..rows {
            if row > 0 {
                out.push_str(", ");
            }
            out.push('(');
            for column in 0..width {
                if column > 0 {
                    out.push_str(", ");
                }
                self.placeholder(out, row * width + column + 1);
                if let Some(cast) = casts.get(column) {
                    out.push_str("::");
                    out.push_str(cast);
                }
            }
            out.push(')');
        }
    }

    fn list(self, names: &[&str]) -> String {
        names.iter().map(|n| self.quote(n)).collect::<Vec<_>>().join(", ")
    }

    /// `INSERT INTO t (columns) VALUES ...` of `rows` rows.
    pub fn insert(self, table: &str, columns: &[&str], rows: usize) -> String {
        let mut sql = format!("INSERT INTO {} ({}) VALUES ", self.quote(table), self.list(columns));
        self.tuples(&mut sql, rows, columns.len(), &[]);
        sql
    }

    /// An insert of `rows` rows that updates the row with the same key instead where there is one.
    pub fn upsert(self, table: &str, key: &[&str], values: &[&str], rows: usize) -> String {
        let columns: Vec<&str> = key.iter().chain(values).copied().collect();
        let mut sql = self.insert(table, &columns, rows);
        match self {
            Dialect::Postgres => self.on_conflict(&mut sql, key, values),
            Dialect::MySql => {
                // With nothing but the key, setting a key column to itself makes the duplicate a no-op.
                let sets: Vec<String> = match values.is_empty() {
                    true => key.iter().take(1).map(|k| format!("{0} = {0}", self.quote(k))).collect(),
                    false => values.iter().map(|v| format!("{0} = VALUES({0})", self.quote(v))).collect(),
                };
                let _ = write!(sql, " ON DUPLICATE KEY UPDATE {}", sets.join(", "));
            }
        }
        sql
    }

    /// Postgres: the upsert of any number of rows given as one array per column (`$1` holds the first column's
    /// values, and so on): `INSERT INTO t (columns) SELECT * FROM unnest($1::type[], ...) ON CONFLICT ...`. Its
    /// text does not depend on the number of rows, so it is prepared once per table, and the server parses one
    /// parameter per column rather than one per value. `casts` are the columns' types (none of them an array type:
    /// `unnest` would flatten those).
    pub fn upsert_columns(self, table: &str, key: &[&str], values: &[&str], casts: &[&str]) -> String {
        let columns: Vec<&str> = key.iter().chain(values).copied().collect();
        let arrays: Vec<String> = casts.iter().enumerate().map(|(i, cast)| format!("${}::{cast}[]", i + 1)).collect();
        let mut sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM unnest({})",
            self.quote(table),
            self.list(&columns),
            arrays.join(", ")
        );
        self.on_conflict(&mut sql, key, values);
        sql
    }

    /// Postgres: ` ON CONFLICT (key) DO UPDATE SET v = EXCLUDED.v, ...`, or `DO NOTHING` without values.
    fn on_conflict(self, sql: &mut String, key: &[&str], values: &[&str]) {
        let _ = write!(sql, " ON CONFLICT ({}) DO ", self.list(key));
        if values.is_empty() {
            sql.push_str("NOTHING");
        } else {
            let sets: Vec<String> = values.iter().map(|v| format!("{0} = EXCLUDED.{0}", self.quote(v))).collect();
            let _ = write!(sql, "UPDATE SET {}", sets.join(", "));
        }
    }

    /// Postgres: `COPY t (columns) FROM STDIN`, in the text format.
    pub fn copy_from_stdin(self, table: &str, columns: &[&str]) -> String {
        format!("COPY {} ({}) FROM STDIN", self.quote(table), self.list(columns))
    }

    /// An update of the `values` columns of `rows` rows found by their `key`; `casts` are the Postgres types of the
    /// key and value columns, in that order (its `VALUES` rows do not take their types from the table).
    pub fn update(self, table: &str, key: &[&str], values: &[&str], rows: usize, casts: &[&str]) -> String {
        let target = self.quote(table);
        let rows_alias = self.quote(ROWS);
        let qualified = |alias: &str, column: &str| format!("{alias}.{}", self.quote(column));
        let matches: Vec<String> =
            key.iter().map(|k| format!("{} = {}", qualified(&target, k), qualified(&rows_alias, k))).collect();
        let columns: Vec<&str> = key.iter().chain(values).copied().collect();
        match self {
            Dialect::Postgres => {
                let sets: Vec<String> =
                    values.iter().map(|v| format!("{} = {}", self.quote(v), qualified(&rows_alias, v))).collect();
                let mut sql = format!("UPDATE {target} SET {} FROM (VALUES ", sets.join(", "));
                self.tuples(&mut sql, rows, columns.len(), casts);
                let _ = write!(sql, ") AS {rows_alias} ({}) WHERE {}", self.list(&columns), matches.join(" AND "));
                sql
            }
            Dialect::MySql => {
                let mut sql = format!("UPDATE {target} JOIN (");
                for row in 0..rows {
                    sql.push_str(if row == 0 { "SELECT " } else { " UNION ALL SELECT " });
                    for (i, column) in columns.iter().enumerate() {
                        if i > 0 {
                            sql.push_str(", ");
                        }
                        sql.push('?');
                        if row == 0 {
                            let _ = write!(sql, " AS {}", self.quote(column));
                        }
                    }
                }
                let sets: Vec<String> = values
                    .iter()
                    .map(|v| format!("{} = {}", qualified(&target, v), qualified(&rows_alias, v)))
                    .collect();
                let _ = write!(sql, ") AS {rows_alias} ON {} SET {}", matches.join(" AND "), sets.join(", "));
                sql
            }
        }
    }

    /// `TRUNCATE TABLE t`.
    pub fn truncate(self, table: &str) -> String {
        format!("TRUNCATE TABLE {}", self.quote(table))
    }

    /// A delete of the rows with the `key` values of `rows` rows.
    pub fn delete(self, table: &str, key: &[&str], rows: usize) -> String {
        let mut sql = format!("DELETE FROM {} WHERE ({}) IN (", self.quote(table), self.list(key));
        self.tuples(&mut sql, rows, key.len(), &[]);
        sql.push(')');
        sql
    }

    /// `CREATE TABLE IF NOT EXISTS` with `columns`, the key columns making the primary key.
    pub fn create_table(self, table: &str, columns: &[ColumnDef<'_>]) -> String {
        let mut parts: Vec<String> = columns.iter().map(|c| self.column_definition(c)).collect();
        let key: Vec<&str> = columns.iter().filter(|c| c.key).map(|c| c.name).collect();
        if !key.is_empty() {
            parts.push(format!("PRIMARY KEY ({})", self.list(&key)));
        }
        format!("CREATE TABLE IF NOT EXISTS {} ({})", self.quote(table), parts.join(", "))
    }

    /// `ALTER TABLE ... ADD COLUMN`.
    pub fn add_column(self, table: &str, column: &ColumnDef<'_>) -> String {
        format!("ALTER TABLE {} ADD COLUMN {}", self.quote(table), self.column_definition(column))
    }

    fn column_definition(self, column: &ColumnDef<'_>) -> String {
        let null = if column.nullable && !column.key { "" } else { " NOT NULL" };
        format!("{} {}{null}", self.quote(column.name), self.column_type(column.kind, column.key))
    }
}

fn postgres_type(kind: &Kind) -> String {
    match kind {
        Kind::Boolean => "boolean".into(),
        Kind::Int8 | Kind::Int16 => "smallint".into(),
        Kind::Int32 | Kind::Year => "integer".into(),
        Kind::Int64 => "bigint".into(),
        Kind::Float32 => "real".into(),
        Kind::Float64 => "double precision".into(),
        Kind::Text => "text".into(),
        Kind::Bytes => "bytea".into(),
        Kind::Decimal { precision: Some(p), scale } if (1..=1000).contains(p) && (0..=*p as i32).contains(scale) => {
            format!("numeric({p}, {scale})")
        }
        Kind::Decimal { .. } | Kind::VariableDecimal => "numeric".into(),
        Kind::Date => "date".into(),
        Kind::Time(_) => "time".into(),
        Kind::Timestamp(_) => "timestamp".into(),
        Kind::ZonedTimestamp => "timestamptz".into(),
        Kind::ZonedTime => "timetz".into(),
        Kind::Json => "jsonb".into(),
        Kind::Uuid => "uuid".into(),
        Kind::Duration | Kind::Interval => "interval".into(),
        Kind::Array(element) => format!("{}[]", postgres_type(element)),
    }
}

fn mysql_type(kind: &Kind, key: bool) -> String {
    match kind {
        Kind::Boolean => "BOOLEAN".into(),
        Kind::Int8 => "TINYINT".into(),
        Kind::Int16 => "SMALLINT".into(),
        Kind::Int32 => "INT".into(),
        Kind::Int64 | Kind::Duration => "BIGINT".into(),
        Kind::Float32 => "FLOAT".into(),
        Kind::Float64 => "DOUBLE".into(),
        Kind::Text | Kind::Interval | Kind::Array(_) if key => "VARCHAR(255)".into(),
        Kind::Text | Kind::Interval | Kind::Array(_) => "LONGTEXT".into(),
        Kind::Bytes if key => "VARBINARY(255)".into(),
        Kind::Bytes => "LONGBLOB".into(),
        Kind::Decimal { precision, scale } => {
            // DECIMAL holds at most 65 digits, 30 of them after the point.
            let scale = (*scale).clamp(0, 30);
            let precision = precision.map_or(65, |p| p.min(65) as i32).max(scale).max(1);
            format!("DECIMAL({precision}, {scale})")
        }
        Kind::VariableDecimal => "DECIMAL(65, 30)".into(),
        Kind::Date => "DATE".into(),
        Kind::Time(_) | Kind::ZonedTime => "TIME(6)".into(),
        Kind::Timestamp(_) | Kind::ZonedTimestamp => "DATETIME(6)".into(),
        Kind::Year => "YEAR".into(),
        Kind::Json => "JSON".into(),
        Kind::Uuid => "CHAR(36)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::TimeUnit;

    #[test]
    fn quoting_and_folding() {
        assert_eq!(Dialect::Postgres.quote("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(Dialect::MySql.quote("order"), "`order`");
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
        assert_eq!(Dialect::Postgres.fold("Customers", false), "customers");
        assert_eq!(Dialect::Postgres.fold("Customers", true), "Customers");
        assert_eq!(Dialect::MySql.fold("Customers", false), "Customers");
        assert!(Dialect::MySql.same_column("ID", "id") && !Dialect::Postgres.same_column("ID", "id"));
    }

    #[test]
    fn inserts_and_upserts() {
        assert_eq!(
            Dialect::Postgres.insert("t", &["a", "b"], 2),
            "INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            Dialect::Postgres.upsert("t", &["id"], &["name", "qty"], 1),
            "INSERT INTO \"t\" (\"id\", \"name\", \"qty\") VALUES ($1, $2, $3) ON CONFLICT (\"id\") DO UPDATE SET \
             \"name\" = EXCLUDED.\"name\", \"qty\" = EXCLUDED.\"qty\""
        );
        assert_eq!(
            Dialect::Postgres.upsert("t", &["a", "b"], &[], 1),
            "INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2) ON CONFLICT (\"a\", \"b\") DO NOTHING"
        );
        assert_eq!(
            Dialect::MySql.upsert("t", &["id"], &["name"], 2),
            "INSERT INTO `t` (`id`, `name`) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)"
        );
        assert_eq!(
            Dialect::MySql.upsert("t", &["id"], &[], 1),
            "INSERT INTO `t` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = `id`"
        );
        assert_eq!(
            Dialect::Postgres.upsert_columns("t", &["id"], &["name"], &["bigint", "numeric"]),
            "INSERT INTO \"t\" (\"id\", \"name\") SELECT * FROM unnest($1::bigint[], $2::numeric[]) ON CONFLICT \
             (\"id\") DO UPDATE SET \"name\" = EXCLUDED.\"name\""
        );
    }

    #[test]
    fn updates_and_deletes() {
        assert_eq!(
            Dialect::Postgres.update("t", &["id"], &["name"], 2, &["integer", "text"]),
            "UPDATE \"t\" SET \"name\" = \"__tidemark_rows\".\"name\" FROM (VALUES ($1::integer, $2::text), \
             ($3::integer, $4::text)) AS \"__tidemark_rows\" (\"id\", \"name\") WHERE \"t\".\"id\" = \
             \"__tidemark_rows\".\"id\""
        );
        assert_eq!(
            Dialect::MySql.update("t", &["id"], &["name"], 2, &[]),
            "UPDATE `t` JOIN (SELECT ? AS `id`, ? AS `name` UNION ALL SELECT ?, ?) AS `__tidemark_rows` ON \
             `t`.`id` = `__tidemark_rows`.`id` SET `t`.`name` = `__tidemark_rows`.`name`"
        );
        assert_eq!(Dialect::Postgres.delete("t", &["id"], 2), "DELETE FROM \"t\" WHERE (\"id\") IN (($1), ($2))");
        assert_eq!(Dialect::MySql.delete("t", &["a", "b"], 2), "DELETE FROM `t` WHERE (`a`, `b`) IN ((?, ?), (?, ?))");
    }

    #[test]
    fn copies() {
        assert_eq!(Dialect::Postgres.copy_from_stdin("t", &["id", "name"]), "COPY \"t\" (\"id\", \"name\") FROM STDIN");
    }

    #[test]
    fn tables_and_columns() {
        let id = Kind::Text;
        let amount = Kind::Decimal { precision: Some(10), scale: 2 };
        let seen = Kind::ZonedTimestamp;
        let columns = [
            ColumnDef { name: "id", kind: &id, nullable: false, key: true },
            ColumnDef { name: "amount", kind: &amount, nullable: false, key: false },
            ColumnDef { name: "seen", kind: &seen, nullable: true, key: false },
        ];
        assert_eq!(
            Dialect::Postgres.create_table("orders", &columns),
            "CREATE TABLE IF NOT EXISTS \"orders\" (\"id\" text NOT NULL, \"amount\" numeric(10, 2) NOT NULL, \
             \"seen\" timestamptz, PRIMARY KEY (\"id\"))"
        );
        assert_eq!(
            Dialect::MySql.create_table("orders", &columns),
            "CREATE TABLE IF NOT EXISTS `orders` (`id` VARCHAR(255) NOT NULL, `amount` DECIMAL(10, 2) NOT NULL, \
             `seen` DATETIME(6), PRIMARY KEY (`id`))"
        );
        assert_eq!(
            Dialect::MySql.add_column("orders", &columns[2]),
            "ALTER TABLE `orders` ADD COLUMN `seen` DATETIME(6)"
        );
    }

    #[test]
    fn column_types() {
        let pg = |kind: Kind| Dialect::Postgres.column_type(&kind, false);
        let my = |kind: Kind, key: bool| Dialect::MySql.column_type(&kind, key);
        assert_eq!(pg(Kind::Array(Box::new(Kind::Int64))), "bigint[]");
        assert_eq!(pg(Kind::Decimal { precision: None, scale: 3 }), "numeric");
        assert_eq!(pg(Kind::Decimal { precision: Some(5), scale: -2 }), "numeric");
        assert_eq!(pg(Kind::Time(TimeUnit::Micros)), "time");
        assert_eq!(pg(Kind::Json), "jsonb");
        assert_eq!(my(Kind::Decimal { precision: None, scale: 40 }, false), "DECIMAL(65, 30)");
        assert_eq!(my(Kind::Decimal { precision: Some(3), scale: 5 }, false), "DECIMAL(5, 5)");
        assert_eq!(my(Kind::Bytes, true), "VARBINARY(255)");
        assert_eq!(my(Kind::Text, false), "LONGTEXT");
        assert_eq!(my(Kind::Json, false), "JSON");
    }
}
