//! Black-box tests of the TMF648 API over real HTTP against `q2c local` (fresh data dir,
//! free port per test).

mod auth;
mod catalog_and_hub;
mod catalog_hrefs;
mod concurrency;
mod conditional;
mod conformance;
mod deprecation;
mod errors;
mod hostile;
mod inventory;
mod messages;
mod orders;
mod quotas;
mod quotes;
mod tenancy;
mod v4_recorded;
mod versions;
