//! Tidemark's connect worker (DESIGN.md §1 "Connect worker"): the connector and task contracts, connector configs
//! and their validation, the Kafka Connect data model and its converters, and the worker's state in the log.
#![forbid(unsafe_code)]

pub mod config;
pub mod connector;
pub mod converters;
pub mod data;
pub mod http_client;
pub mod metrics;
pub mod plugins;
pub mod record;
pub mod rest;
pub mod runtime;
pub mod state;
pub mod transforms;
pub mod worker;
