//! What a statement in the binlog does to tables, read from its first words (not a DDL parser: the table maps
//! carry the definitions; this only names the tables a schema change event describes and the table a TRUNCATE
//! empties). Comments, backquoted names (with `` `` `` for a backquote) and `db.table` qualification are handled.

/// What a statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `CREATE TABLE`: the table now exists.
    CreateTable(TableName),
    /// `ALTER TABLE`, `CREATE INDEX ... ON`, `DROP INDEX ... ON`: the table changed.
    AlterTable(TableName),
    /// `DROP TABLE`: the tables are gone.
    DropTables(Vec<TableName>),
    /// `RENAME TABLE a TO b, ...`: each pair (old, new).
    RenameTables(Vec<(TableName, TableName)>),
    /// `TRUNCATE [TABLE]`.
    Truncate(TableName),
    /// `CREATE` / `ALTER` / `DROP` `DATABASE` (or `SCHEMA`).
    Database(String),
    /// Anything else that is not DML: other DDL (views, procedures, users, ...).
    Other,
}

/// A table, qualified by its database (the statement's default database when it names none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    /// The database.
    pub database: String,
    /// The table.
    pub table: String,
}

impl Statement {
    /// Reads `statement`, run in database `default`.
    pub fn parse(statement: &str, default: &str) -> Statement {
        let tokens = tokens(statement);
        let words: Vec<String> = tokens.iter().map(|t| t.to_ascii_uppercase()).collect();
        let word = |i: usize| words.get(i).map(String::as_str).unwrap_or_default();
        let name = |i: usize| tokens.get(i).map(|t| TableName::parse(t, default));
        let mut i = 0;
        match word(0) {
            "CREATE" | "ALTER" | "DROP" => {
                let verb = word(0);
                i += 1;
                // CREATE OR REPLACE, TEMPORARY, ONLINE, IGNORE, ...
                while matches!(word(i), "OR" | "REPLACE" | "TEMPORARY" | "ONLINE" | "OFFLINE" | "IGNORE") {
                    i += 1;
                }
                match word(i) {
                    "TABLE" => {
                        i += 1;
                        while matches!(word(i), "IF" | "NOT" | "EXISTS") {
                            i += 1;
                        }
                        match verb {
                            "CREATE" => name(i).map_or(Statement::Other, Statement::CreateTable),
                            "ALTER" => name(i).map_or(Statement::Other, Statement::AlterTable),
                            _ => {
                                let names: Vec<TableName> = tokens[i.min(tokens.len())..]
                                    .iter()
                                    .take_while(|t| !matches!(t.to_ascii_uppercase().as_str(), "RESTRICT" | "CASCADE"))
                                    .filter(|t| *t != ",")
                                    .map(|t| TableName::parse(t, default))
                                    .collect();
                                Statement::DropTables(names)
                            }
                        }
                    }
                    "DATABASE" | "SCHEMA" => {
                        i += 1;
                        while matches!(word(i), "IF" | "NOT" | "EXISTS") {
                            i += 1;
                        }
                        Statement::Database(tokens.get(i).map_or_else(|| default.to_owned(), |t| unquote(t)))
                    }
                    "INDEX" | "UNIQUE" | "FULLTEXT" | "SPATIAL" => {
                        let on = words.iter().position(|w| w == "ON");
                        on.and_then(|on| name(on + 1)).map_or(Statement::Other, Statement::AlterTable)
                    }
                    _ => Statement::Other,
                }
            }
            "RENAME" if word(1) == "TABLE" || word(1) == "TABLES" => {
                let mut pairs = Vec::new();
                let mut rest = tokens[2..].iter().filter(|t| *t != ",");
                while let (Some(old), Some(to), Some(new)) = (rest.next(), rest.next(), rest.next()) {
                    if !to.eq_ignore_ascii_case("TO") {
                        break;
                    }
                    pairs.push((TableName::parse(old, default), TableName::parse(new, default)));
                }
                Statement::RenameTables(pairs)
            }
            "TRUNCATE" => {
                i = if word(1) == "TABLE" { 2 } else { 1 };
                name(i).map_or(Statement::Other, Statement::Truncate)
            }
            _ => Statement::Other,
        }
    }

    /// The tables the statement changes (both names of a rename), for the schema change event.
    pub fn tables(&self) -> Vec<&TableName> {
        match self {
            Statement::CreateTable(t) | Statement::AlterTable(t) | Statement::Truncate(t) => vec![t],
            Statement::DropTables(tables) => tables.iter().collect(),
            Statement::RenameTables(pairs) => pairs.iter().flat_map(|(old, new)| [old, new]).collect(),
            Statement::Database(_) | Statement::Other => Vec::new(),
        }
    }
}

impl TableName {
    /// `db.table`, `` `db`.`table` `` or `table` (in `default`).
    fn parse(token: &str, default: &str) -> TableName {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        let mut chars = token.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '`' if quoted && chars.peek() == Some(&'`') => {
                    current.push('`');
                    chars.next();
                }
                '`' => quoted = !quoted,
                '.' if !quoted => parts.push(std::mem::take(&mut current)),
                other => current.push(other),
            }
        }
        parts.push(current);
        match parts.as_slice() {
            [database, table] => TableName { database: database.clone(), table: table.clone() },
            _ => TableName { database: default.to_owned(), table: parts.pop().unwrap_or_default() },
        }
    }
}

/// A name without its backquotes.
fn unquote(token: &str) -> String {
    TableName::parse(token, "").table
}

/// The statement's words, names (a qualified name with its dots, backquotes kept) and commas, without comments
/// and without what follows an opening parenthesis (the column list does not name tables).
fn tokens(statement: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = statement.chars().peekable();
    let flush = |current: &mut String, tokens: &mut Vec<String>| {
        if !current.is_empty() {
            tokens.push(std::mem::take(current));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                current.push('`');
                while let Some(q) = chars.next() {
                    current.push(q);
                    if q == '`' {
                        if chars.peek() == Some(&'`') {
                            current.push('`');
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                flush(&mut current, &mut tokens);
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut current, &mut tokens);
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '#' => {
                flush(&mut current, &mut tokens);
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            ',' => {
                flush(&mut current, &mut tokens);
                tokens.push(",".to_owned());
            }
            '(' | ';' => {
                flush(&mut current, &mut tokens);
                if tokens.first().is_some_and(|t| !t.eq_ignore_ascii_case("RENAME")) {
                    break;
                }
            }
            c if c.is_whitespace() => flush(&mut current, &mut tokens),
            c => current.push(c),
        }
    }
    flush(&mut current, &mut tokens);
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(database: &str, table: &str) -> TableName {
        TableName { database: database.into(), table: table.into() }
    }

    #[test]
    fn tables_of_ddl_statements() {
        let parse = |s: &str| Statement::parse(s, "shop");
        assert_eq!(parse("CREATE TABLE orders (id INT PRIMARY KEY)"), Statement::CreateTable(table("shop", "orders")));
        assert_eq!(
            parse("create table if not exists `my db`.`or``ders`(id int)"),
            Statement::CreateTable(table("my db", "or`ders"))
        );
        assert_eq!(parse("ALTER TABLE orders ADD COLUMN note TEXT"), Statement::AlterTable(table("shop", "orders")));
        assert_eq!(parse("ALTER ONLINE TABLE inv.items DROP x"), Statement::AlterTable(table("inv", "items")));
        assert_eq!(
            parse("DROP TABLE IF EXISTS `a`,b /* generated by server */"),
            Statement::DropTables(vec![table("shop", "a"), table("shop", "b")])
        );
        assert_eq!(
            parse("RENAME TABLE a TO b, inv.c TO inv.d"),
            Statement::RenameTables(vec![
                (table("shop", "a"), table("shop", "b")),
                (table("inv", "c"), table("inv", "d"))
            ])
        );
        assert_eq!(parse("TRUNCATE TABLE orders"), Statement::Truncate(table("shop", "orders")));
        assert_eq!(parse("truncate inv.items;"), Statement::Truncate(table("inv", "items")));
        assert_eq!(parse("CREATE INDEX i ON orders (name)"), Statement::AlterTable(table("shop", "orders")));
        assert_eq!(parse("CREATE DATABASE IF NOT EXISTS inv"), Statement::Database("inv".into()));
        assert_eq!(parse("/* x */ CREATE VIEW v AS SELECT 1"), Statement::Other);
        assert_eq!(parse("GRANT ALL ON *.* TO x"), Statement::Other);
    }
}
