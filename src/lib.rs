//! ixp-portal: the member portal of an Internet Exchange Point.
pub mod admin;
pub mod auth;
pub mod background;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod demo_identities;
pub mod demo_peering;
pub mod domain;
pub mod ixf;
pub mod mail;
pub mod peeringapi;
pub mod peeringdb;
pub mod startup;
pub mod web;
