//! The destination's tables as the sink knows them ([`Tables`]): each table's columns are read once and again after
//! each change the sink makes to it. Before a batch is written, every table and column it needs must exist: under
//! `schema.evolution=basic` a missing table is created from the record's schema (the key columns its primary key,
//! `NOT NULL` for required fields) and a missing column added (nullable); under `none` the task fails and says what
//! is missing. This happens outside the batch's transaction, since MySQL commits around DDL.
//!
//! A table that does not exist and that the batch only deletes from is left alone (there is nothing to delete);
//! [`Tables::prepare`] names those so the writer skips them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use thiserror::Error;

use crate::change::{Change, Operation};
use crate::config::SchemaEvolution;
use crate::db::{DbError, Session, TableInfo};
use crate::dialect::{ColumnDef, Dialect};
use crate::layout::{Column, Layout};

/// A table or column a batch needs is missing and may not be created, or the database failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableError {
    /// A table is missing under `schema.evolution=none`.
    #[error("the table {table} does not exist: create it, or set schema.evolution=basic for the sink to create it")]
    MissingTable {
        /// The table.
        table: String,
    },
    /// A column is missing under `schema.evolution=none`.
    #[error("the table {table} has no column {column}: add it, or set schema.evolution=basic for the sink to add it")]
    MissingColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The tables known so far.
pub struct Tables {
    dialect: Dialect,
    evolution: SchemaEvolution,
    known: HashMap<String, TableInfo>,
}

/// The distinct layouts a batch writes to one table, and whether each deletes.
struct TableUse<'a> {
    table: &'a str,
    layouts: Vec<(&'a Arc<Layout>, bool)>,
}

impl Tables {
    /// No tables known yet.
    pub fn new(dialect: Dialect, evolution: SchemaEvolution) -> Self {
        Tables { dialect, evolution, known: HashMap::new() }
    }

    /// Forgets every table (after a failure: they are read again).
    pub fn forget(&mut self) {
        self.known.clear();
    }

    /// Makes sure every table and column `changes` need exists; answers the missing tables that only get deletes.
    pub async fn prepare(&mut self, session: &mut Session, changes: &[Change]) -> Result<HashSet<String>, TableError> {
        let mut absent = HashSet::new();
        for table_use in uses(changes) {
            let table = table_use.table;
            if !self.load(session, table).await? {
                let Some((layout, _)) = table_use.layouts.iter().find(|(_, delete)| !delete) else {
                    if self.evolution == SchemaEvolution::None {
                        return Err(TableError::MissingTable { table: table.to_owned() });
                    }
                    absent.insert(table.to_owned());
                    continue;
                };
                self.create(session, layout).await?;
            }
            self.add_missing_columns(session, &table_use).await?;
        }
        Ok(absent)
    }

    /// Whether `table` exists.
    pub async fn exists(&mut self, session: &mut Session, table: &str) -> Result<bool, TableError> {
        self.load(session, table).await
    }

    /// The types of `columns` of `table` as casts name them, when every one is known and none is an array type:
    /// what an upsert of column arrays ([`crate::dialect::Dialect::upsert_columns`]) needs.
    pub fn element_types(&self, table: &str, columns: &[&str]) -> Option<Vec<String>> {
        let info = self.known.get(table)?;
        columns
            .iter()
            .map(|column| {
                let found = info.columns.iter().find(|c| self.dialect.same_column(&c.name, column))?;
                (!found.sql_type.ends_with(']')).then(|| found.sql_type.clone())
            })
            .collect()
    }

    /// The types of `columns` of `table` as casts name them (`text` for one not known).
    pub fn column_types(&self, table: &str, columns: &[&str]) -> Vec<String> {
        let info = self.known.get(table);
        columns
            .iter()
            .map(|column| {
                info.and_then(|info| info.columns.iter().find(|c| self.dialect.same_column(&c.name, column)))
                    .map_or_else(|| "text".to_owned(), |c| c.sql_type.clone())
            })
            .collect()
    }

    /// Whether the table exists, its columns read when not known yet.
    async fn load(&mut self, session: &mut Session, table: &str) -> Result<bool, TableError> {
        Ok(self.known.contains_key(table) || self.read(session, table).await?)
    }

    /// Reads the table's columns; whether it exists.
    async fn read(&mut self, session: &mut Session, table: &str) -> Result<bool, TableError> {
        match session.table(table).await? {
            Some(info) => {
                self.known.insert(table.to_owned(), info);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Creates the table of `layout` (under `basic`).
    async fn create(&mut self, session: &mut Session, layout: &Layout) -> Result<(), TableError> {
        if self.evolution == SchemaEvolution::None {
            return Err(TableError::MissingTable { table: layout.table.clone() });
        }
        let columns: Vec<ColumnDef<'_>> = layout
            .key
            .iter()
            .map(|c| definition(c, true))
            .chain(layout.values.iter().map(|c| definition(c, false)))
            .collect();
        let sql = self.dialect.create_table(&layout.table, &columns);
        tracing::info!(table = layout.table, %sql, "creating a table");
        session.run(&sql).await?;
        match self.read(session, &layout.table).await? {
            true => Ok(()),
            false => Err(TableError::MissingTable { table: layout.table.clone() }),
        }
    }

    /// Adds the columns the table lacks for any of the layouts (under `basic`), nullable.
    async fn add_missing_columns(&mut self, session: &mut Session, table_use: &TableUse<'_>) -> Result<(), TableError> {
        for (layout, _) in &table_use.layouts {
            let Some(info) = self.known.get(table_use.table) else { continue };
            for column in missing(self.dialect, info, layout) {
                if self.evolution == SchemaEvolution::None {
                    return Err(TableError::MissingColumn {
                        table: table_use.table.to_owned(),
                        column: column.name.clone(),
                    });
                }
                let definition = ColumnDef { name: &column.name, kind: &column.kind, nullable: true, key: false };
                let sql = self.dialect.add_column(table_use.table, &definition);
                tracing::info!(table = table_use.table, %sql, "adding a column");
                let added = session.run(&sql).await;
                // Another task may have added it meanwhile: what counts is whether the table has it now.
                self.read(session, table_use.table).await?;
                let has_it =
                    self.known.get(table_use.table).is_some_and(|info| has_column(self.dialect, info, &column.name));
                match added {
                    Err(error) if !has_it => return Err(error.into()),
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// The tables `changes` touch, in order, each with its distinct layouts.
fn uses(changes: &[Change]) -> Vec<TableUse<'_>> {
    let mut uses: Vec<TableUse<'_>> = Vec::new();
    for change in changes {
        let delete = change.operation == Operation::Delete;
        let table = change.layout.table.as_str();
        let index = match uses.iter().position(|u| u.table == table) {
            Some(index) => index,
            None => {
                uses.push(TableUse { table, layouts: Vec::new() });
                uses.len() - 1
            }
        };
        let layouts = &mut uses[index].layouts;
        let known = |(layout, d): &(&Arc<Layout>, bool)| {
            *d == delete && (Arc::ptr_eq(layout, &change.layout) || layout.same_columns(&change.layout))
        };
        if !layouts.iter().any(known) {
            layouts.push((&change.layout, delete));
        }
    }
    uses
}

/// The columns of `layout` that `info` lacks.
fn missing<'l>(dialect: Dialect, info: &TableInfo, layout: &'l Layout) -> Vec<&'l Column> {
    layout.key.iter().chain(&layout.values).filter(|c| !has_column(dialect, info, &c.name)).collect()
}

fn has_column(dialect: Dialect, info: &TableInfo, name: &str) -> bool {
    info.columns.iter().any(|c| dialect.same_column(&c.name, name))
}

fn definition(column: &Column, key: bool) -> ColumnDef<'_> {
    ColumnDef { name: &column.name, kind: &column.kind, nullable: column.optional, key }
}
