//! Integration tests: the real application over HTTP, on SQLite and PostgreSQL.
mod access;
mod browser;
mod cli;
mod common;
mod foundation;
mod ixf;
mod peering_api;
mod peering_lan;
mod peeringdb;
mod scaling;
mod staff;
